import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
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
import { parseRoomKey, roomKey } from '../../shared/protocol/http/roomKey.ts';
import type { StreamingOutPatchOp } from '../../shared/protocol/http/streamingOut.ts';
import { audioEncoding, videoEncoding } from '../recordings/recordingEncoding.ts';
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
  readonly #lostNodes: { registry: NodeRegistry; afterMs: number } | undefined;
  readonly #events: EventSink;

  constructor(d: {
    rooms: RoomService;
    recordings: RecordingStore;
    streams: StreamStore;
    commands: Commands;
    hosts: PipelineHosts;
    events: EventSink;
    /** Where the nodes report (cluster modes): recordings of a node gone from it for `afterMs` fail. */
    lostNodes?: { registry: NodeRegistry; afterMs?: number } | undefined;
  }) {
    this.#rooms = d.rooms;
    this.#recordings = d.recordings;
    this.#streams = d.streams;
    this.#commands = d.commands;
    this.#hosts = d.hosts;
    this.#events = d.events;
    this.#lostNodes = d.lostNodes && {
      registry: d.lostNodes.registry,
      afterMs: d.lostNodes.afterMs ?? NODE_LOST_MS,
    };
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
   * `records` with each unfinished one whose node has been gone from the registry for
   * NODE_LOST_MS failed, and `recording.failed` published (once: by the reader whose write
   * settled it). Redis forgets a report 10 s after the last, so the record itself keeps when its
   * node was first seen missing (`nodeMissingSince`), cleared when the node reports again.
   */
  async #sweep(key: string, records: Recording[]): Promise<Recording[]> {
    const lost = this.#lostNodes;
    const running = records.filter((r) => unfinished(r) && r.nodeId);
    if (!lost || running.length === 0) return records;
    const reporting = new Set((await lost.registry.fresh(lost.afterMs)).map((n) => n.id));
    const now = Date.now();
    const settled = new Map<string, Recording>();
    for (const record of running) {
      const missing = !reporting.has(record.nodeId!);
      if (!missing && !record.nodeMissingSince) continue;
      let failed: Recording | undefined;
      const current = await settleRecording(this.#recordings, key, record.id, (r) => {
        failed = undefined;
        if (!unfinished(r)) return undefined;
        if (!missing) {
          const { nodeMissingSince: _, ...back } = r;
          return back;
        }
        if (!r.nodeMissingSince) return { ...r, nodeMissingSince: new Date(now).toISOString() };
        if (now - Date.parse(r.nodeMissingSince) < lost.afterMs) return undefined;
        failed = {
          ...r,
          status: 'failed',
          endedAt: new Date(now).toISOString(),
          reason: `media node ${r.nodeId} stopped reporting over ${Math.round(lost.afterMs / 1000)} s ago and the recording ended with it; its parts are stored if the node starts again`,
          lost: true,
        };
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
    const event = newEvent('recording.failed', {
      serviceId,
      roomId,
      nodeId: r.nodeId ?? r.storage.host,
      data: { recording: { id, container, bytes, durationMs, files, ...(reason ? { reason } : {}) } },
    });
    // As old as the record's end: the projection tells the sweep's own event (not newer than
    // endedAt) from the node's later report, and a millisecond between the two must not blur it.
    await this.#events.publish([{ ...event, at: r.endedAt ?? event.at }]);
  }

  async get(caller: Caller, roomId: string, id: string): Promise<Recording> {
    const key = await this.#rooms.key(caller, roomId);
    return present(await this.#find(key, id), roomId);
  }

  async start(caller: Caller, roomId: string, request: RecordingRequest): Promise<Recording> {
    const room = await this.#rooms.owned(caller, roomId);
    const key = roomKey(room.serviceId, room.id);
    const { audio, video } = request.media;
    const sources = {
      audio: audio ? await this.#source(key, audio.from, 'audio') : undefined,
      video: video ? await this.#source(key, video.from, 'video') : undefined,
    };
    // What the file holds of each track: copied, or re-encoded as asked (the room allowing it).
    const encodeVideo =
      video && sources.video ? videoEncoding(room.options, video, sources.video.codec) : undefined;
    const encodeAudio =
      audio && sources.audio ? audioEncoding(room.options, audio, sources.audio.codec) : undefined;
    const out = {
      audio: encodeAudio?.audioCodec ?? sources.audio?.codec,
      video: encodeVideo?.videoCodec ?? sources.video?.codec,
    };
    const mimeTypes = [
      ...(out.audio ? [`audio/${out.audio}`] : []),
      ...(out.video ? [`video/${out.video}`] : []),
    ];
    const container = containerFor(request.container, mimeTypes);
    const refused = refusedCodecs(container, mimeTypes);
    if (refused.length > 0)
      throw new ValidationError(`${container} cannot hold ${refused.join(' and ')} without re-encoding`, [
        {
          path: 'container',
          message: `use ${refusedCodecs('mkv', mimeTypes).length === 0 ? 'mkv' : 'another'}, or ask for another format`,
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
        ...(audio && out.audio
          ? {
              audio: {
                from: audio.from,
                format: { codec: out.audio },
                status: 'active' as const,
                ...(encodeAudio ? { transcoded: true } : {}),
              },
            }
          : {}),
        ...(video && out.video
          ? {
              video: {
                from: video.from,
                format: { codec: out.video },
                status: 'active' as const,
                ...(encodeVideo ? { transcoded: true } : {}),
              },
            }
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
          ...encodeVideo,
          ...encodeAudio,
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
      'a recording keeps the video parameters it started with',
      async (from, kind) => {
        const { codec } = await this.#source(key, from, kind);
        // A re-encoded track keeps what the file holds; a copied one takes the new source's codec.
        return recording.media[kind]?.transcoded ? {} : { format: { codec } };
      },
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

  /** A stream of the room with a track of `kind`, and that track's codec. */
  async #source(key: string, from: string, kind: 'audio' | 'video') {
    const stream: Stream | undefined = await this.#streams.get(key, from);
    const track = stream?.media[kind];
    if (!stream || !track)
      throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${from} with ${kind} not found in the room`);
    return { codec: track.format.codec.toLowerCase() };
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
function present(
  { nodeId: _, lost: __, nodeMissingSince: ___, ...recording }: Recording,
  roomId: string,
): Recording {
  return { ...recording, roomId };
}
