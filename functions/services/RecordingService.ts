import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  NotImplementedError,
  ValidationError,
} from '../../shared/errors.ts';
import type { RecordingStore } from '../../shared/ports/durable.ts';
import type { EventSink } from '../../shared/ports/events.ts';
import type { StreamStore } from '../../shared/ports/live.ts';
import type { NodeRegistry } from '../../shared/ports/nodes.ts';
import { newEvent } from '../../shared/protocol/events.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import {
  containerFor,
  type Recording,
  type RecordingRequest,
  refusedCodecs,
} from '../../shared/protocol/http/recording.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import type { StreamingOutPatchOp } from '../../shared/protocol/http/streamingOut.ts';
import type { Commands } from './Commands.ts';
import type { PipelineHosts } from './PipelineHosts.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';
import { applySourceOps } from './sourceOps.ts';

/** Recordings running at once in one room: each is an ffmpeg on the room's host. */
export const MAX_ACTIVE_RECORDINGS_PER_ROOM = 4;
/** Records a room keeps (running and ended): older ones must go before more start. */
export const MAX_RECORDINGS_PER_ROOM = 200;

/**
 * A node silent this long is taken for gone: its running recordings are failed (a node that
 * restarts sooner recovers them itself, RecordingRecovery). Far above the reports' 1 s period
 * and a failover's few seconds, so that a node only cut off for a moment keeps them.
 */
export const NODE_LOST_MS = 60_000;

const active = (r: Recording) => r.status === 'starting' || r.status === 'recording';
const unfinished = (r: Recording) => active(r) || r.status === 'stopping';

/**
 * OWT's recordings (`/v1/rooms/{room}/recordings`): a room's audio and/or video (from one stream
 * or two) copied into a file by a `record` pipeline on the room's host. The record is durable and
 * kept after the recording ends; the node's `recording.*` events fill in its status, size,
 * duration and files (RecordingProjection). A record whose node has stopped reporting for
 * NODE_LOST_MS is failed when it is next read, with a `recording.failed` event (webhooks), so
 * that a node that never returns leaves no recording running forever.
 */
export class RecordingService {
  readonly #rooms: RoomService;
  readonly #recordings: RecordingStore;
  readonly #streams: StreamStore;
  readonly #commands: Commands;
  readonly #hosts: PipelineHosts;
  readonly #nodes: NodeRegistry;
  readonly #events: EventSink;
  readonly #nodeLostMs: number;

  constructor(d: {
    rooms: RoomService;
    recordings: RecordingStore;
    streams: StreamStore;
    commands: Commands;
    hosts: PipelineHosts;
    nodes: NodeRegistry;
    events: EventSink;
    nodeLostMs?: number;
  }) {
    this.#rooms = d.rooms;
    this.#recordings = d.recordings;
    this.#streams = d.streams;
    this.#commands = d.commands;
    this.#hosts = d.hosts;
    this.#nodes = d.nodes;
    this.#events = d.events;
    this.#nodeLostMs = d.nodeLostMs ?? NODE_LOST_MS;
  }

  async list(caller: Caller, roomId: string): Promise<Recording[]> {
    const key = await this.#rooms.key(caller, roomId);
    return (await this.#list(key)).map((r) => present(r, roomId));
  }

  /** The room's records, those of lost nodes failed first. */
  async #list(key: string): Promise<Recording[]> {
    return this.#sweep(key, await this.#recordings.list(key));
  }

  /**
   * `records` with each unfinished one whose node has not reported for NODE_LOST_MS failed (and
   * `recording.failed` published, once: by the reader whose write settled it).
   */
  async #sweep(key: string, records: Recording[]): Promise<Recording[]> {
    const running = records.filter((r) => unfinished(r) && r.nodeId);
    if (running.length === 0) return records;
    const reporting = new Set((await this.#nodes.fresh(this.#nodeLostMs)).map((n) => n.id));
    const lost = running.filter((r) => !reporting.has(r.nodeId!));
    if (lost.length === 0) return records;
    const settled = new Map<string, Recording>();
    for (const record of lost) {
      let failed: Recording | undefined;
      const current = await settleRecording(this.#recordings, key, record.id, (r) => {
        failed = unfinished(r)
          ? {
              ...r,
              status: 'failed',
              endedAt: new Date().toISOString(),
              reason: `media node ${r.nodeId} stopped reporting over ${Math.round(this.#nodeLostMs / 1000)} s ago and the recording ended with it; its parts are stored if the node starts again`,
              lost: true,
            }
          : undefined;
        return failed;
      });
      if (current) settled.set(record.id, current);
      if (failed && current?.version === failed.version + 1) await this.#publishLost(key, current);
    }
    return records.map((r) => settled.get(r.id) ?? r);
  }

  async #publishLost(key: string, r: Recording): Promise<void> {
    const { serviceId, roomId } = parseRoomKey(key);
    const { id, container, bytes, durationMs, files, reason } = r;
    await this.#events.publish([
      newEvent('recording.failed', {
        serviceId,
        roomId,
        nodeId: r.nodeId ?? r.storage.host,
        data: { recording: { id, container, bytes, durationMs, files, ...(reason ? { reason } : {}) } },
      }),
    ]);
  }

  async get(caller: Caller, roomId: string, id: string): Promise<Recording> {
    const key = await this.#rooms.key(caller, roomId);
    return present(await this.#find(key, id), roomId);
  }

  async start(caller: Caller, roomId: string, request: RecordingRequest): Promise<Recording> {
    const key = await this.#rooms.key(caller, roomId);
    const { audio, video } = request.media;
    const parameters = video === false ? undefined : video.parameters;
    if (parameters && Object.keys(parameters).length > 0)
      throw new NotImplementedError(
        'media.video.parameters: recording at other video parameters needs transcoding, not implemented yet',
        { options: ['media.video.parameters'] },
      );
    const sources = {
      audio: audio ? await this.#source(key, audio.from, 'audio', audio.format?.codec) : undefined,
      video: video ? await this.#source(key, video.from, 'video', video.format?.codec) : undefined,
    };
    const container = containerFor(request.container);
    const mimeTypes = [
      ...(sources.audio ? [`audio/${sources.audio.codec}`] : []),
      ...(sources.video ? [`video/${sources.video.codec}`] : []),
    ];
    const refused = refusedCodecs(container, mimeTypes);
    if (refused.length > 0)
      throw new ValidationError(`${container} cannot hold ${refused.join(' and ')} without re-encoding`, [
        {
          path: 'container',
          message: `use ${refusedCodecs('mkv', mimeTypes).length === 0 ? 'mkv' : 'another'}`,
        },
      ]);

    const existing = await this.#list(key);
    if (existing.filter(active).length >= MAX_ACTIVE_RECORDINGS_PER_ROOM)
      throw new LimitError(`at most ${MAX_ACTIVE_RECORDINGS_PER_ROOM} recordings run at once in a room`);
    if (existing.length >= MAX_RECORDINGS_PER_ROOM)
      throw new LimitError(`a room keeps at most ${MAX_RECORDINGS_PER_ROOM} recordings`);

    const host = await this.#hosts.hostOf(key, 'record');
    const id = randomUUID();
    const recording: Recording = {
      id,
      roomId: key,
      container,
      media: {
        ...(audio && sources.audio
          ? { audio: { from: audio.from, format: { codec: sources.audio.codec }, status: 'active' as const } }
          : {}),
        ...(video && sources.video
          ? { video: { from: video.from, format: { codec: sources.video.codec }, status: 'active' as const } }
          : {}),
      },
      storage: { host, file: `${id}.${container}` },
      status: 'starting',
      nodeId: host,
      createdAt: new Date().toISOString(),
      bytes: 0,
      durationMs: 0,
      files: [],
      version: 1,
    };
    await this.#recordings.create(recording);
    // Video first, then audio (RecordParams.kinds): each names a publication the node resolves.
    const inputs = [
      ...(video ? [{ streamId: video.from, kind: 'video' }] : []),
      ...(audio ? [{ streamId: audio.from, kind: 'audio' }] : []),
    ];
    try {
      await this.#commands.send(host, {
        type: 'pipeline.start',
        roomId: key,
        pipelineId: id,
        kind: 'record',
        input: { streamId: inputs[0]!.streamId },
        ...(inputs[1] ? { with: [{ streamId: inputs[1].streamId }] } : {}),
        params: {
          container,
          kinds: inputs.map((i) => i.kind).join('+') as 'audio' | 'video' | 'video+audio',
        },
      });
    } catch (error) {
      await this.#settle(key, id, (r) => ({
        ...r,
        status: 'failed',
        reason: 'the room host could not be told',
      }));
      throw error;
    }
    return present(recording, roomId);
  }

  /**
   * OWT's PATCH of a recording: `replace /media/audio/from` or `/media/video/from` switches its
   * sources live (each must have that kind, in a codec the container holds; the node starts the
   * next part file on them, and refuses, leaving the recording as it was, what it cannot take).
   * Video parameters need transcoding: 501.
   */
  async update(caller: Caller, roomId: string, id: string, ops: StreamingOutPatchOp[]): Promise<Recording> {
    const key = await this.#rooms.key(caller, roomId);
    const recording = await this.#find(key, id);
    const media = await applySourceOps(
      ops,
      recording.media,
      'recording',
      'recording at other video parameters needs transcoding, not implemented yet',
      async (from, kind) => ({ format: { codec: (await this.#source(key, from, kind, undefined)).codec } }),
    );
    const mimeTypes = [
      ...(media.audio ? [`audio/${media.audio.format?.codec}`] : []),
      ...(media.video ? [`video/${media.video.format?.codec}`] : []),
    ];
    const container = containerFor(recording.container);
    const refused = refusedCodecs(container, mimeTypes);
    if (refused.length > 0)
      throw new ValidationError(
        `${recording.container} cannot hold ${refused.join(' and ')} without re-encoding`,
        [{ path: 'from', message: 'another stream, or a recording in mkv' }],
      );
    if (!active(recording) || !recording.nodeId)
      throw new ConflictError(`this recording is ${recording.status}: start another`);
    // In the order the pipeline took them (RecordParams.kinds): video first.
    await this.#commands.send(recording.nodeId, {
      type: 'pipeline.switch',
      roomId: key,
      pipelineId: id,
      inputs: [
        ...(media.video ? [{ streamId: media.video.from }] : []),
        ...(media.audio ? [{ streamId: media.audio.from }] : []),
      ],
    });
    let updated: Recording | undefined;
    await this.#settle(key, id, (r) => {
      updated = {
        ...r,
        media: {
          ...(media.audio ? { audio: media.audio } : {}),
          ...(media.video ? { video: media.video } : {}),
        },
      };
      return updated;
    });
    return present(updated ?? recording, roomId);
  }

  /** Stops a running recording (its file is finished, its record says `stopping` until the node reports). */
  async stop(caller: Caller, roomId: string, id: string): Promise<void> {
    const key = await this.#rooms.key(caller, roomId);
    const recording = await this.#find(key, id);
    if (!active(recording)) return;
    if (recording.nodeId)
      await this.#commands.send(recording.nodeId, { type: 'pipeline.stop', roomId: key, pipelineId: id });
    await this.#settle(key, id, (r) => (active(r) ? { ...r, status: 'stopping' } : undefined));
  }

  /** A stream of the room with a track of `kind`, whose codec is the one asked for (no transcoding yet). */
  async #source(key: string, from: string, kind: 'audio' | 'video', codec: string | undefined) {
    const stream: Stream | undefined = await this.#streams.get(key, from);
    const track = stream?.media[kind];
    if (!stream || !track)
      throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${from} with ${kind} not found in the room`);
    const has = track.format.codec.toLowerCase();
    if (codec && codec.toLowerCase() !== has)
      throw new NotImplementedError(
        `media.${kind}.format: recording ${from} as ${codec} needs transcoding (it is ${has}), not implemented yet`,
        { options: [`media.${kind}.format`] },
      );
    return { codec: has };
  }

  async #find(key: string, id: string): Promise<Recording> {
    const recording = await this.#recordings.get(key, id);
    if (!recording) throw new NotFoundError(ErrorCodes.notFound, `recording ${id} not found`);
    return (await this.#sweep(key, [recording]))[0]!;
  }

  /** Read, change, write with the next version; again when another writer won (the projection). */
  async #settle(key: string, id: string, change: (r: Recording) => Recording | undefined): Promise<void> {
    await settleRecording(this.#recordings, key, id, change);
  }
}

/**
 * One optimistic read-modify-write of a recording, retried a few times when another writer won
 * (REST's stop and the node's reports meet here). `change` returns undefined for no change.
 */
export async function settleRecording(
  store: RecordingStore,
  key: string,
  id: string,
  change: (r: Recording) => Recording | undefined,
): Promise<Recording | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.get(key, id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    try {
      const written = { ...next, version: current.version + 1 };
      await store.update(written);
      return written;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === 5) throw error;
    }
  }
}

/** The record as tenants see it: under their room id, without the node's id (storage.host names it). */
function present({ nodeId: _, lost: __, ...recording }: Recording, roomId: string): Recording {
  return { ...recording, roomId };
}
