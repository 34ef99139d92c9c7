import type { Logger } from '../../shared/logger.ts';
import type { StreamStore } from '../../shared/ports/live.ts';
import type { Stream, StreamOrigin } from '../../shared/protocol/http/liveState.ts';
import { publicationOf } from '../../shared/protocol/signaling.ts';
import type { Room } from '../sfu/Room.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { MediaTrack } from '../sfu/RoomStreams.ts';
import { formatOf } from './streamFormats.ts';

type Track = NonNullable<Stream['media']['audio']>;
type Source = NonNullable<Track['source']>;

const SOURCES = new Set<string>([
  'mic',
  'camera',
  'screen-cast',
  'raw-file',
  'encoded-file',
  'streaming',
  'mixed',
]);

/**
 * The live-state projection of this node's streams: one OWT stream record per publication
 * (a participant's or a pipeline's; piped-in streams are recorded by the node they come from),
 * written when its first track arrives, rewritten when a track joins, pauses, resumes or goes,
 * deleted with its last track or the room. Formats are read from the producers. What the REST
 * API owns on the record (views, attributes) is kept across rewrites; a mixed stream's layout
 * and active input are its mixer's (announced), its video parameters its view's.
 */
export class StreamRecords {
  readonly #store: StreamStore;
  readonly #logger: Logger | undefined;
  /** This node: REST commands for a stream go to the node that records it. */
  readonly #nodeId: string | undefined;
  /** Per room and publication, the write in flight: writes of one record stay in order. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(rooms: RoomRegistry, store: StreamStore, logger?: Logger, nodeId?: string) {
    this.#store = store;
    this.#nodeId = nodeId;
    this.#logger = logger;
    rooms.on('roomcreated', (room) => this.#follow(room));
  }

  #follow(room: Room): void {
    // This node's tracks, by id, with their publication: the room's other nodes keep theirs
    // when this part of the room closes.
    const local = new Map<string, string>();
    room.on('streamadded', (s) => {
      if (s.kind === 'data') return;
      local.set(s.id, publicationOf(s));
      this.#write(room, publicationOf(s), () => this.#record(room, publicationOf(s)));
    });
    room.on('streamupdated', (s) => {
      const publication = local.get(s.id);
      if (publication) this.#write(room, publication, () => this.#record(room, publication));
    });
    room.on('streamremoved', (id) => {
      const publication = local.get(id);
      if (!publication) return;
      local.delete(id);
      this.#write(room, publication, () => this.#record(room, publication));
    });
    room.once('close', () => {
      for (const publication of new Set(local.values())) this.#write(room, publication, () => undefined);
      local.clear();
    });
    // A participant's streams are the records of the node it is on. One arriving here (a
    // rejoin, or a move from a node that died and could not clear them) has none yet: what
    // is recorded under its id is from an earlier session.
    room.on('peerjoined', (peer) => {
      void this.#store
        .list(room.id)
        .then((records) => {
          const ours = new Set(local.values());
          return Promise.all(
            records
              .filter((r) => r.info.owner === peer.info.id && !ours.has(r.id))
              .map((r) => this.#store.delete(room.id, r.id)),
          );
        })
        .catch((error) => this.#logger?.warn('clearing stale stream records failed', { error }));
    });
  }

  /** The publication's record as its live tracks make it now; undefined once none is left. */
  #record(room: Room, publication: string): Omit<Stream, 'version'> | undefined {
    const tracks = room
      .producersOf(publication)
      .filter((t) => t.origin.kind !== 'pipe' && publicationOf(t.announcement) === publication);
    const first = tracks[0];
    if (!first || room.closed) return undefined;
    const audio = tracks.find((t) => t.announcement.kind === 'audio');
    const video = tracks.find((t) => t.announcement.kind === 'video');
    const mixed = tracks.some((t) => t.announcement.type === 'mixed');
    const { origin } = first;
    const label = first.announcement.label?.slice(0, 64);
    // A mixer's video track is the one that lays out regions; its audio one picks the active input.
    const layout = (video ?? audio)?.announcement.layout ?? audio?.announcement.layout;
    const activeInput = audio?.announcement.activeInput ?? video?.announcement.activeInput;
    const view = mixed ? room.views().find((v) => v.label === label) : undefined;
    const videoTrack = video ? track(video) : undefined;
    if (videoTrack && view?.video) {
      const { resolution, framerate, bitrate } = view.video.parameters;
      videoTrack.parameters = { resolution, framerate, ...(bitrate !== undefined ? { bitrate } : {}) };
    }
    return {
      id: publication,
      roomId: room.id,
      type: mixed ? 'mixed' : 'forward',
      media: { ...(audio ? { audio: track(audio) } : {}), ...(videoTrack ? { video: videoTrack } : {}) },
      info: {
        ...(origin.kind === 'participant' ? { owner: first.announcement.owner } : {}),
        type: infoType(origin, mixed),
        // OWT mixes a publication into every view of the room on publish (what the host knows;
        // the REST API's inViews win once the record exists).
        inViews: origin.kind === 'participant' ? room.views().map((v) => v.label) : [],
        ...(label ? { label } : {}),
        ...(mixed && layout ? { layout } : {}),
        ...(mixed && activeInput ? { activeInput } : {}),
        origin,
      },
    };
  }

  /** Queues a write of the record `next()` computes when its turn comes (none: delete it). */
  #write(room: Room, publication: string, next: () => Omit<Stream, 'version'> | undefined): void {
    const key = `${room.id}\n${publication}`;
    const previous = this.#writes.get(key) ?? Promise.resolve();
    const write = previous
      .then(async () => {
        const record = next();
        if (!record) {
          await this.#store.delete(room.id, publication);
          return;
        }
        const stored = await this.#store.get(room.id, publication);
        await this.#store.put({
          ...record,
          info: {
            ...record.info,
            // The REST API's part of the record.
            inViews: stored?.info.inViews ?? record.info.inViews,
            ...(stored?.info.attributes ? { attributes: stored.info.attributes } : {}),
            // A mixer's own layout (announced) is the live one; else what REST set.
            ...(record.info.layout || stored?.info.layout
              ? { layout: record.info.layout ?? stored?.info.layout }
              : {}),
          },
          ...(this.#nodeId ? { nodeId: this.#nodeId } : {}),
          version: (stored?.version ?? 0) + 1,
        });
      })
      .catch((error) => this.#logger?.warn('writing a stream record failed', { publication, error }));
    this.#writes.set(key, write);
    void write.then(() => {
      if (this.#writes.get(key) === write) this.#writes.delete(key);
    });
  }

  /** Resolves when every write queued so far is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes.values()]);
  }
}

function track(t: MediaTrack): Track {
  const { kind, paused, source } = t.announcement;
  // OWT has no source for a screen's audio: it calls the whole screen share screen-cast.
  const owtSource = source === 'screen-audio' ? 'screen-cast' : source;
  return {
    status: paused ? 'inactive' : 'active',
    format: formatOf(kind as 'audio' | 'video', t.producer.rtpParameters),
    ...(SOURCES.has(owtSource) ? { source: owtSource as Source } : {}),
  };
}

/**
 * OWT's `info.type`: a participant's publication is `webrtc`; a pipeline's output is `mixed`
 * (a mixer) or, for a forward stream a pipeline makes of another (a re-encode), `analytics`,
 * OWT's name for a processed copy of a stream.
 */
function infoType(origin: StreamOrigin, mixed: boolean): Stream['info']['type'] {
  if (mixed) return 'mixed';
  if (origin.kind !== 'pipeline') return 'webrtc';
  // A streaming-in (RTSP/RTMP pulled in) or an RTMP push is OWT's `streaming`; other pipelines' outputs analytics'.
  return origin.pipelineKind === 'stream-in' || origin.pipelineKind === 'rtmp-in' ? 'streaming' : 'analytics';
}
