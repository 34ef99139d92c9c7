import { ErrorCodes, type NotFoundCode } from '../errors.ts';
import type { Participant, Stream } from '../protocol/http/liveState.ts';
import type { StreamingOut } from '../protocol/http/streamingOut.ts';

/** Records that live in a room and change while it is live (participants, streams). */
export interface Versioned {
  id: string;
  roomId: string;
  version: number;
}

/** Which records a collection holds. */
export type LiveKind = 'participant' | 'stream' | 'streaming-out';

/** The not-found code of a collection's records. */
export const notFoundCode = (kind: LiveKind): NotFoundCode =>
  kind === 'participant'
    ? ErrorCodes.participantNotFound
    : kind === 'stream'
      ? ErrorCodes.streamNotFound
      : ErrorCodes.notFound;

export interface LiveCollection<T extends Versioned> {
  /** Insert or overwrite (the writer owns the record: signaling on join, the media node on publish). */
  put(record: T): Promise<void>;
  get(roomId: string, id: string): Promise<T | undefined>;
  list(roomId: string): Promise<T[]>;
  /**
   * Inserts `record` only while the room holds fewer than `limit` records (a negative limit is no
   * limit), atomically: concurrent admissions never exceed the limit. False when full.
   */
  admit(record: T, limit: number): Promise<boolean>;
  /** Writes only if the stored version is `record.version - 1`; NotFoundError / ConflictError otherwise. */
  update(record: T): Promise<void>;
  delete(roomId: string, id: string): Promise<boolean>;
  /** Removes every record of a room (the room closed or was deleted). */
  clear(roomId: string): Promise<void>;
}

export type ParticipantStore = LiveCollection<Participant>;
export type StreamStore = LiveCollection<Stream>;
export type StreamingOutStore = LiveCollection<StreamingOut>;

/** Single use of join tokens: each token id can be redeemed once, until it expires. */
export interface TokenLedger {
  record(tokenId: string, expiresAtMs: number): Promise<void>;
  /** True exactly once per recorded, unexpired token id; false when unknown, used or expired. */
  redeem(tokenId: string): Promise<boolean>;
}

/**
 * Which media node hosts a live room. Placement decisions take the room's lock (set-if-absent
 * with expiry, compare-and-delete release) and write under it with a fencing token, so racing
 * functions agree on one node and a stale lock holder cannot overwrite a newer decision.
 */
export interface PlacementStore {
  get(roomId: string): Promise<string | undefined>;
  /** Unconditional write (single-node modes and tests). */
  set(roomId: string, nodeId: string): Promise<void>;
  delete(roomId: string): Promise<void>;
  /**
   * Tries the room's lock and reads the room's node in one step (a placement decision's second
   * round trip of three): the lock's token when taken, undefined while someone else holds it.
   */
  lock(roomId: string, ttlMs: number): Promise<PlacementLock>;
  /** Releases the lock only if `token` still holds it. */
  unlock(roomId: string, token: string): Promise<void>;
  /**
   * Writes the room's node and releases the lock, if `token` still holds it: the new fencing
   * token, else undefined (nothing written, and the lock is not the caller's any more).
   */
  assign(roomId: string, nodeId: string, token: string): Promise<number | undefined>;
}

export interface PlacementLock {
  token: string | undefined;
  /** The room's node when the lock was tried. */
  nodeId: string | undefined;
}

/** At-most-once processing of commands (SQS delivers at least once). */
export interface CommandLedger {
  /**
   * True the first time an id is seen within `rememberMs`, false on every repeat. Ids are
   * forgotten after that, so the ledger holds one key per command only while a redelivery can come.
   */
  firstTime(commandId: string, rememberMs: number): Promise<boolean>;
}

/**
 * Which media nodes host a live room and how many of its participants each holds. A room
 * spans nodes when one node is full; every node in the set pipes its streams to the others.
 */
export interface RoomNodes {
  counts(roomId: string): Promise<Record<string, number>>;
  /** Adds `delta` participants on a node (negative when they leave); a node at 0 leaves the set. */
  add(roomId: string, nodeId: string, delta: number): Promise<void>;
}
