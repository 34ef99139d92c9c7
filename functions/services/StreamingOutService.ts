import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  ValidationError,
} from '../../shared/errors.ts';
import { checkVideoParameters, resolveVideoTranscode } from '../../shared/media/videoOut.ts';
import type { StreamingOutStore, StreamStore } from '../../shared/ports/live.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import type {
  StreamingOut,
  StreamingOutPatchOp,
  StreamingOutRequest,
} from '../../shared/protocol/http/streamingOut.ts';
import {
  type VideoTranscodeParameters,
  VideoTranscodeParametersSchema,
} from '../../shared/protocol/signaling.ts';
import { checkStreamingUrl } from '../streaming/urls.ts';
import type { Commands } from './Commands.ts';
import type { PipelineHosts } from './PipelineHosts.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';
import { applySourceOps, VIDEO_PARAMETERS } from './sourceOps.ts';

/** Streaming-outs running at once in one room: each is an H.264 encode on the room's host. */
export const MAX_STREAMING_OUTS_PER_ROOM = 4;

/** The URL schemes each protocol takes. */
const SCHEMES: Record<StreamingOut['protocol'], readonly string[]> = {
  rtmp: ['rtmp:', 'rtmps:'],
  rtsp: ['rtsp:'],
  hls: ['http:', 'https:'],
  dash: ['http:', 'https:'],
};

/** OWT's HLS and DASH parameters (RESTAPI.md §5.5), to the pipeline's. */
const method = z.enum(['PUT', 'POST']).default('PUT');
const HlsParametersSchema = z
  .strictObject({
    method,
    hlsTime: z.number().int().min(1).max(10).default(2),
    hlsListSize: z.number().int().min(2).max(30).default(6),
  })
  .transform((p) => ({ method: p.method, segmentSeconds: p.hlsTime, windowSize: p.hlsListSize }));
const DashParametersSchema = z
  .strictObject({
    method,
    dashSegDuration: z.number().int().min(1).max(10).default(2),
    dashWindowSize: z.number().int().min(2).max(30).default(6),
  })
  .transform((p) => ({ method: p.method, segmentSeconds: p.dashSegDuration, windowSize: p.dashWindowSize }));

/**
 * OWT's streaming-outs (`/v1/rooms/{room}/streaming-outs`): a room's audio and/or video pushed as
 * H.264 + AAC to an RTMP or RTSP server, or as HLS or DASH to an HTTP origin, by a `stream-out` pipeline on the room's host, which
 * reconnects when the server goes away. The record is live state: it lists what runs, `failed`
 * ones until deleted; one that ends (its input went, the room closed) goes (StreamingOutProjection).
 */
export class StreamingOutService {
  readonly #rooms: RoomService;
  readonly #outs: StreamingOutStore;
  readonly #streams: StreamStore;
  readonly #commands: Commands;
  readonly #hosts: PipelineHosts;
  readonly #allowPrivate: boolean;

  constructor(d: {
    rooms: RoomService;
    streamingOuts: StreamingOutStore;
    streams: StreamStore;
    commands: Commands;
    hosts: PipelineHosts;
    allowPrivateUrls: boolean;
  }) {
    this.#rooms = d.rooms;
    this.#outs = d.streamingOuts;
    this.#streams = d.streams;
    this.#commands = d.commands;
    this.#hosts = d.hosts;
    this.#allowPrivate = d.allowPrivateUrls;
  }

  async list(caller: Caller, roomId: string): Promise<StreamingOut[]> {
    const key = await this.#rooms.key(caller, roomId);
    return (await this.#outs.list(key)).map((o) => present(o, roomId));
  }

  async get(caller: Caller, roomId: string, id: string): Promise<StreamingOut> {
    const key = await this.#rooms.key(caller, roomId);
    return present(await this.#find(key, id), roomId);
  }

  async start(caller: Caller, roomId: string, request: StreamingOutRequest): Promise<StreamingOut> {
    const room = await this.#rooms.owned(caller, roomId);
    const key = roomKey(room.serviceId, room.id);
    const { protocol } = request;
    const segments = this.#segments(protocol, request.parameters);
    const { audio, video } = request.media;
    // As a subscription's (OWT validates both alike): within the room's transcoding and mediaOut.
    const parameters = video ? video.parameters : undefined;
    if (parameters) checkVideoParameters(room.options, parameters);
    const url = checkStreamingUrl(request.url, SCHEMES[protocol], this.#allowPrivate);
    if (audio) await this.#source(key, audio.from, 'audio');
    if (video) await this.#source(key, video.from, 'video');

    const host = await this.#hosts.hostOf(key, 'stream');
    const id = randomUUID();
    const out: StreamingOut = {
      id,
      roomId: key,
      protocol,
      url,
      ...(request.parameters ? { parameters: request.parameters } : {}),
      media: {
        ...(audio ? { audio: { from: audio.from, format: { codec: 'aac' as const } } } : {}),
        ...(video
          ? {
              video: {
                from: video.from,
                format: { codec: 'h264' as const, profile: 'CB' as const },
                ...(parameters ? { parameters } : {}),
              },
            }
          : {}),
      },
      status: 'starting',
      nodeId: host,
      createdAt: new Date().toISOString(),
      version: 1,
    };
    if (!(await this.#outs.admit(out, MAX_STREAMING_OUTS_PER_ROOM)))
      throw new LimitError(`at most ${MAX_STREAMING_OUTS_PER_ROOM} streaming-outs run at once in a room`);
    const inputs = [
      ...(video ? [{ streamId: video.from, kind: 'video' }] : []),
      ...(audio ? [{ streamId: audio.from, kind: 'audio' }] : []),
    ];
    try {
      await this.#commands.send(host, {
        type: 'pipeline.start',
        roomId: key,
        pipelineId: id,
        kind: 'stream-out',
        input: { streamId: inputs[0]!.streamId },
        ...(inputs[1] ? { with: [{ streamId: inputs[1].streamId }] } : {}),
        params: {
          protocol,
          kinds: inputs.map((i) => i.kind).join('+'),
          ...segments,
          ...(video ? encoding(parameters) : {}),
        },
        output: { url },
      });
    } catch (error) {
      await this.#outs.delete(key, id);
      throw error;
    }
    return present(out, roomId);
  }

  /**
   * OWT's PATCH: another stream's audio and/or video, and other video parameters, live. The new
   * sources are checked here and on the node, which consumes them before it lets the old ones go
   * (a refused switch leaves the output as it was); parameters as on start. The record names the
   * new ones at once.
   */
  async update(
    caller: Caller,
    roomId: string,
    id: string,
    ops: StreamingOutPatchOp[],
  ): Promise<StreamingOut> {
    const room = await this.#rooms.owned(caller, roomId);
    const key = roomKey(room.serviceId, room.id);
    const out = await this.#find(key, id);
    const media = await applySourceOps(ops, out.media, 'streaming-out', undefined, async (from, kind) => {
      await this.#source(key, from, kind);
      return {};
    });
    const parameterOps = ops.filter((op) => op.path.startsWith(VIDEO_PARAMETERS));
    if (parameterOps.length > 0) {
      if (!media.video)
        throw new ValidationError('this streaming-out has no video', [
          { path: parameterOps[0]!.path, message: 'absent' },
        ]);
      const asked: Record<string, unknown> = { ...media.video.parameters };
      for (const op of parameterOps) asked[op.path.slice(VIDEO_PARAMETERS.length)] = op.value;
      const parsed = VideoTranscodeParametersSchema.safeParse(asked);
      if (!parsed.success)
        throw new ValidationError(
          'invalid media.video.parameters',
          parsed.error.issues.map((i) => ({
            path: `${VIDEO_PARAMETERS}${i.path.join('/')}`,
            message: i.message,
          })),
        );
      checkVideoParameters(room.options, parsed.data);
      media.video = { ...media.video, parameters: parsed.data };
    }
    if (out.status === 'failed' || !out.nodeId)
      throw new ConflictError('this streaming-out failed: delete it and start another');
    await this.#commands.send(out.nodeId, {
      type: 'pipeline.switch',
      roomId: key,
      pipelineId: id,
      inputs: [
        ...(media.video ? [{ streamId: media.video.from }] : []),
        ...(media.audio ? [{ streamId: media.audio.from }] : []),
      ],
      ...(parameterOps.length > 0 ? { params: encoding(media.video?.parameters) } : {}),
    });
    const updated: StreamingOut = {
      ...out,
      media: {
        ...(media.audio ? { audio: media.audio } : {}),
        ...(media.video ? { video: media.video } : {}),
      },
      version: out.version + 1,
    };
    await this.#outs.update(updated);
    return present(updated, roomId);
  }

  /** Stops it and forgets it (OWT lists running streaming-outs only). */
  async stop(caller: Caller, roomId: string, id: string): Promise<void> {
    const key = await this.#rooms.key(caller, roomId);
    const out = await this.#find(key, id);
    if (out.nodeId && out.status !== 'failed')
      await this.#commands.send(out.nodeId, { type: 'pipeline.stop', roomId: key, pipelineId: id });
    await this.#outs.delete(key, id);
  }

  /** HLS and DASH parameters (OWT's names) as the pipeline takes them; none for the others. */
  #segments(protocol: StreamingOut['protocol'], parameters: StreamingOutRequest['parameters']) {
    if (protocol === 'rtmp' || protocol === 'rtsp') {
      if (parameters !== undefined)
        throw new ValidationError('parameters are for hls and dash only', [
          { path: 'parameters', message: `not with ${protocol}` },
        ]);
      return {};
    }
    const parsed = (protocol === 'hls' ? HlsParametersSchema : DashParametersSchema).safeParse(
      parameters ?? {},
    );
    if (!parsed.success)
      throw new ValidationError(
        `invalid ${protocol} parameters`,
        parsed.error.issues.map((i) => ({ path: ['parameters', ...i.path].join('.'), message: i.message })),
      );
    return parsed.data;
  }

  async #source(key: string, from: string, kind: 'audio' | 'video'): Promise<void> {
    const stream = await this.#streams.get(key, from);
    if (!stream?.media[kind])
      throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${from} with ${kind} not found in the room`);
  }

  async #find(key: string, id: string): Promise<StreamingOut> {
    const out = await this.#outs.get(key, id);
    if (!out) throw new NotFoundError(ErrorCodes.notFound, `streaming-out ${id} not found`);
    return out;
  }
}

function present({ nodeId: _, ...out }: StreamingOut, roomId: string): StreamingOut {
  return { ...out, roomId };
}

/**
 * The encoder's settings for OWT's video parameters: the size and rate asked for (else the
 * source's size at 30 fps), and OWT's default bit rate for them times the `x` multiplier.
 */
function encoding(parameters: VideoTranscodeParameters | undefined) {
  const framerate = parameters?.framerate ?? 30;
  const { width, height, bitrateKbps, keyFrameIntervalSeconds } = resolveVideoTranscode('h264', {
    ...parameters,
    framerate,
  });
  return {
    ...(width && height ? { width, height } : {}),
    framerate,
    keyFrameSeconds: keyFrameIntervalSeconds,
    // Without a size to go by, the encoder's own default (2 Mbit/s, 720p-ready) times the multiplier.
    videoKbps:
      width && height
        ? bitrateKbps
        : Math.min(8000, Math.max(32, Math.round(2000 * Number(parameters?.bitrate?.slice(1) ?? 1)))),
  };
}
