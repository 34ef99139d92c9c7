import type { Page, PageRequest, RoomStore, RoomVersions } from '../ports/durable.ts';
import type { Room } from '../protocol/http/room.ts';
import { roomKey } from '../protocol/http/roomKey.ts';

export interface RoomCacheOptions {
  /** At most this long in memory, whatever the token says (ms). */
  maxAgeMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/**
 * A RoomStore that serves room reads from memory while the room's change token (RoomVersions,
 * one Redis GET) is the one the copy was cached under: a room read or token issue costs a
 * Redis round trip instead of a DynamoDB one. Lists and counts are not cached.
 *
 * A write changes the token before and after it goes to the durable store: a reader that raced
 * the write cached under the first new token, which the second one retires. The first change
 * must succeed (no token, no write: every process's copy stays valid); if only the second fails,
 * a racing reader's copy lives at most `maxAgeMs`.
 *
 * Outages: with the token unreadable (Redis down) reads go to the durable store, uncached, so
 * durable state alone still serves room reads. With the durable store down, a room whose token
 * still holds is served from memory.
 */
export class CachedRoomStore implements RoomStore {
  readonly #inner: RoomStore;
  readonly #versions: RoomVersions;
  /**
   * Rooms kept as JSON, each read parsing its own copy (cheaper than structuredClone). Map order
   * is recency order: the first entry is the least recently used.
   */
  readonly #entries = new Map<string, { json: string; version: string | null; at: number }>();
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(inner: RoomStore, versions: RoomVersions, options: RoomCacheOptions = {}) {
    this.#inner = inner;
    this.#versions = versions;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async get(serviceId: string, id: string): Promise<Room | undefined> {
    const key = roomKey(serviceId, id);
    // Read before the record: a write after this point changes the token, and the copy goes.
    let version: string | null;
    try {
      version = await this.#versions.current(key);
    } catch {
      return this.#inner.get(serviceId, id);
    }
    const hit = this.#entries.get(key);
    this.#entries.delete(key);
    if (hit && hit.version === version && this.#now() - hit.at < this.#maxAgeMs) {
      this.#entries.set(key, hit);
      return JSON.parse(hit.json) as Room;
    }
    const room = await this.#inner.get(serviceId, id);
    if (!room) return undefined;
    this.#entries.set(key, { json: JSON.stringify(room), version, at: this.#now() });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return room;
  }

  create(room: Room): Promise<void> {
    return this.#write(room.serviceId, room.id, () => this.#inner.create(room));
  }

  update(room: Room): Promise<void> {
    // Also after a conflict the token changes: our copy may be the stale one that caused it.
    return this.#write(room.serviceId, room.id, () => this.#inner.update(room));
  }

  delete(serviceId: string, id: string): Promise<boolean> {
    return this.#write(serviceId, id, () => this.#inner.delete(serviceId, id));
  }

  list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    return this.#inner.list(serviceId, page);
  }

  count(serviceId: string): Promise<number> {
    return this.#inner.count(serviceId);
  }

  async #write<T>(serviceId: string, id: string, write: () => Promise<T>): Promise<T> {
    const key = roomKey(serviceId, id);
    this.#entries.delete(key);
    await this.#versions.changed(key);
    try {
      return await write();
    } finally {
      this.#entries.delete(key);
      await this.#versions.changed(key).catch(() => {});
    }
  }
}
