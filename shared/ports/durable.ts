import type { Recording } from '../protocol/http/recording.ts';
import type { Room } from '../protocol/http/room.ts';

export interface PageRequest {
  limit: number;
  /** Opaque, from the previous page's `cursor`. */
  cursor?: string;
  /**
   * Items to pass over first (after the cursor, if any): OWT's `?page=N` is one call with
   * skip = (N-1) × per_page. Callers bound it (the API: page ≤ 1000, per_page ≤ 100).
   */
  skip?: number;
}

export interface Page<T> {
  items: T[];
  /** Present when more items follow. */
  cursor?: string;
}

/** A tenant of the management API. The key never leaves the service layer unencrypted. */
export interface ServiceRecord {
  id: string;
  name: string;
  /** The service key, sealed (AES-256-GCM) by the control plane; stores never see it in clear. */
  sealedKey: string;
  createdAt: string;
  /** Where the service's events are POSTed; the secret sealed like the key. */
  webhook?: StoredWebhook;
}

export interface StoredWebhook {
  url: string;
  sealedSecret: string;
  updatedAt: string;
}

export interface ServiceStore {
  /** Conditional: throws ConflictError when the id or the name is taken. */
  create(service: ServiceRecord): Promise<void>;
  get(id: string): Promise<ServiceRecord | undefined>;
  list(page: PageRequest): Promise<Page<ServiceRecord>>;
  /** Whether a service was deleted. */
  delete(id: string): Promise<boolean>;
  /** Sets (or, with undefined, removes) the service's webhook; false when there is no such service. */
  setWebhook(id: string, webhook: StoredWebhook | undefined): Promise<boolean>;
}

/** Rooms, named by their service and id together: two services may use the same room id. */
export interface RoomStore {
  /** Conditional: throws ConflictError when the service has a room of this id already. */
  create(room: Room): Promise<void>;
  get(serviceId: string, id: string): Promise<Room | undefined>;
  /** The rooms of one service, oldest first. */
  list(serviceId: string, page: PageRequest): Promise<Page<Room>>;
  /** How many rooms one service has (its rooms-per-service limit). */
  count(serviceId: string): Promise<number>;
  /**
   * Optimistic concurrency: writes `room` only if the stored version is `room.version - 1`.
   * Throws NotFoundError when the room is gone, ConflictError when it changed meanwhile.
   */
  update(room: Room): Promise<void>;
  delete(serviceId: string, id: string): Promise<boolean>;
}

/**
 * A change token per room record, kept where every process reads it cheaply (Redis): a process
 * may serve a room from memory while the token it cached it under is still the current one.
 */
export interface RoomVersions {
  /** The token now (null: none, e.g. never written or expired). */
  current(roomKey: string): Promise<string | null>;
  /** A new token: every copy cached under the old one is stale. */
  changed(roomKey: string): Promise<void>;
}

/**
 * Recordings, under their room's `<service>/<room>` key: kept after they end (and after the
 * room), so that REST can say where a file went. A room holds a bounded number (RecordingService).
 */
export interface RecordingStore {
  /** Conditional: throws ConflictError when the room has a recording of this id already. */
  create(recording: Recording): Promise<void>;
  get(roomKey: string, id: string): Promise<Recording | undefined>;
  /** The room's recordings, oldest first. */
  list(roomKey: string): Promise<Recording[]>;
  /**
   * Optimistic concurrency: writes only if the stored version is `recording.version - 1`.
   * Throws NotFoundError when it is gone, ConflictError when it changed meanwhile.
   */
  update(recording: Recording): Promise<void>;
}
