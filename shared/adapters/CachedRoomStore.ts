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
 * Redis round trip instead of a DynamoDB one. Every write goes to the durable store first and
 * then changes the token, so a reader that raced a write caches under the old token and reads
 * again next time. Lists and counts are not cached.
 */
export class CachedRoomStore implements RoomStore {
  readonly #inner: RoomStore;
  readonly #versions: RoomVersions;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, { room: Room; version: string | null; at: number }>();
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
    const version = await this.#versions.current(key);
    const hit = this.#entries.get(key);
    this.#entries.delete(key);
    if (hit && hit.version === version && this.#now() - hit.at < this.#maxAgeMs) {
      this.#entries.set(key, hit);
      return structuredClone(hit.room);
    }
    const room = await this.#inner.get(serviceId, id);
    if (!room) return undefined;
    this.#entries.set(key, { room: structuredClone(room), version, at: this.#now() });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return room;
  }

  async create(room: Room): Promise<void> {
    await this.#inner.create(room);
    await this.#changed(room.serviceId, room.id);
  }

  async update(room: Room): Promise<void> {
    try {
      await this.#inner.update(room);
    } finally {
      // Also after a conflict: our copy may be the stale one that caused it.
      await this.#changed(room.serviceId, room.id);
    }
  }

  async delete(serviceId: string, id: string): Promise<boolean> {
    const deleted = await this.#inner.delete(serviceId, id);
    await this.#changed(serviceId, id);
    return deleted;
  }

  list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    return this.#inner.list(serviceId, page);
  }

  count(serviceId: string): Promise<number> {
    return this.#inner.count(serviceId);
  }

  async #changed(serviceId: string, id: string): Promise<void> {
    const key = roomKey(serviceId, id);
    this.#entries.delete(key);
    await this.#versions.changed(key);
  }
}
