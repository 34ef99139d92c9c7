import type { types } from 'mediasoup';
import { ErrorCodes, LimitError, TesseraError } from '../../shared/errors.ts';
import type { StreamOrigin } from '../../shared/protocol/http/liveState.ts';
import { publicationOf, type StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { Peer } from './Peer.ts';

export type { StreamOrigin };

/** One track of the room (a mediasoup producer or data producer) with where it comes from. */
export interface RoomStream {
  readonly producer: types.Producer | types.DataProducer;
  /** The router it was produced on (others get it piped on demand). */
  readonly router: types.Router;
  readonly origin: StreamOrigin;
  /** The local participant that publishes it (origin `participant`). */
  readonly peer?: Peer | undefined;
  announcement: StreamAnnouncement;
}

/** An audio or video track (what `producersOf` finds). */
export type MediaTrack = RoomStream & { readonly producer: types.Producer };

const isMedia = (s: RoomStream): s is MediaTrack => s.announcement.kind !== 'data';

/**
 * The room's tracks by id, and their grouping into publications (OWT streams): a camera and
 * its microphone are two producers of one publication, named by its first track's id. Holds
 * no media logic: `Room` produces, closes and announces; this answers what is where.
 */
export class RoomStreams {
  readonly #tracks = new Map<string, RoomStream>();

  get size(): number {
    return this.#tracks.size;
  }

  get(id: string): RoomStream | undefined {
    return this.#tracks.get(id);
  }

  has(id: string): boolean {
    return this.#tracks.has(id);
  }

  values(): IterableIterator<RoomStream> {
    return this.#tracks.values();
  }

  announcements(): StreamAnnouncement[] {
    return [...this.#tracks.values()].map((s) => s.announcement);
  }

  add(stream: RoomStream): void {
    this.#tracks.set(stream.announcement.id, stream);
  }

  /** Forgets a track; the caller closes and announces it. */
  remove(id: string): RoomStream | undefined {
    const stream = this.#tracks.get(id);
    if (stream) this.#tracks.delete(id);
    return stream;
  }

  /** The tracks of a publication, in the order they were added. */
  publication(publicationId: string): MediaTrack[] {
    return [...this.#tracks.values()].filter(
      (s): s is MediaTrack => isMedia(s) && publicationOf(s.announcement) === publicationId,
    );
  }

  /**
   * The producers a stream id stands for: a publication's tracks, or one track by its own id
   * (REST acts on publications, signaling on tracks). Empty when there is no such stream.
   */
  producersOf(streamId: string): MediaTrack[] {
    const tracks = this.publication(streamId);
    if (tracks.length > 0) return tracks;
    const one = this.#tracks.get(streamId);
    return one && isMedia(one) ? [one] : [];
  }

  /**
   * Checks that a participant's new `kind` track may join publication `publicationId`: it is
   * live, it is the participant's, and it has no track of that kind yet (one audio and one
   * video at most). Throws 1004 or 1303.
   */
  checkJoin(participantId: string, publicationId: string, kind: 'audio' | 'video'): void {
    const tracks = this.publication(publicationId);
    if (tracks.length === 0 || tracks.some((t) => t.announcement.owner !== participantId))
      throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${publicationId} of yours`);
    if (tracks.some((t) => t.announcement.kind === kind))
      throw new LimitError(`stream ${publicationId} has its ${kind} track already`, {
        limit: 'tracksPerStream',
        kind,
        max: 1,
      });
  }

  /** A track paused or resumed: its new announcement (undefined for an unknown id). */
  setPaused(id: string, paused: boolean): StreamAnnouncement | undefined {
    const stream = this.#tracks.get(id);
    if (!stream) return undefined;
    stream.announcement = { ...stream.announcement, paused };
    return stream.announcement;
  }

  /** Tracks piped in from another node for `owner` (a participant that has since moved here). */
  pipedFrom(owner: string): RoomStream[] {
    return [...this.#tracks.values()].filter(
      (s) => s.origin.kind === 'pipe' && s.announcement.owner === owner,
    );
  }
}
