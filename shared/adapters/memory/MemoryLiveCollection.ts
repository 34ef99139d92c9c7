import { ConflictError, type NotFoundCode, NotFoundError } from '../../errors.ts';
import { type LiveCollection, type LiveKind, notFoundCode, type Versioned } from '../../ports/live.ts';

export class MemoryLiveCollection<T extends Versioned> implements LiveCollection<T> {
  readonly #rooms = new Map<string, Map<string, T>>();
  readonly #notFound: NotFoundCode;

  constructor(kind: LiveKind) {
    this.#notFound = notFoundCode(kind);
  }

  #room(roomId: string): Map<string, T> {
    const room = this.#rooms.get(roomId) ?? new Map<string, T>();
    this.#rooms.set(roomId, room);
    return room;
  }

  async put(record: T): Promise<void> {
    this.#room(record.roomId).set(record.id, structuredClone(record));
  }

  async admit(record: T, limit: number): Promise<boolean> {
    const room = this.#room(record.roomId);
    // One synchronous step: no other admission can interleave between the count and the write.
    if (limit >= 0 && !room.has(record.id) && room.size >= limit) return false;
    room.set(record.id, structuredClone(record));
    return true;
  }

  async get(roomId: string, id: string): Promise<T | undefined> {
    const r = this.#rooms.get(roomId)?.get(id);
    return r && structuredClone(r);
  }

  async list(roomId: string): Promise<T[]> {
    return structuredClone([...(this.#rooms.get(roomId)?.values() ?? [])]);
  }

  async update(record: T): Promise<void> {
    const stored = this.#rooms.get(record.roomId)?.get(record.id);
    if (!stored) throw new NotFoundError(this.#notFound, `${record.id} not found`);
    if (stored.version !== record.version - 1)
      throw new ConflictError(`${record.id} changed (version ${stored.version})`);
    this.#room(record.roomId).set(record.id, structuredClone(record));
  }

  async delete(roomId: string, id: string): Promise<boolean> {
    return this.#rooms.get(roomId)?.delete(id) ?? false;
  }

  async clear(roomId: string): Promise<void> {
    this.#rooms.delete(roomId);
  }
}
