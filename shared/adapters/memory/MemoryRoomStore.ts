import { ConflictError, ErrorCodes, NotFoundError } from '../../errors.ts';
import type { Page, PageRequest, RoomStore } from '../../ports/durable.ts';
import type { Room } from '../../protocol/http/room.ts';
import { pageOf } from './paging.ts';

export class MemoryRoomStore implements RoomStore {
  readonly #rooms = new Map<string, Room>();

  async create(room: Room): Promise<void> {
    if (this.#rooms.has(room.id)) throw new ConflictError(`room ${room.id} exists`);
    this.#rooms.set(room.id, structuredClone(room));
  }

  async get(id: string): Promise<Room | undefined> {
    const room = this.#rooms.get(id);
    return room && structuredClone(room);
  }

  async list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    const own = [...this.#rooms.values()]
      .filter((r) => r.serviceId === serviceId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return pageOf(structuredClone(own), page);
  }

  async update(room: Room): Promise<void> {
    const stored = this.#rooms.get(room.id);
    if (!stored) throw new NotFoundError(ErrorCodes.roomNotFound, `room ${room.id} not found`);
    if (stored.version !== room.version - 1)
      throw new ConflictError(`room ${room.id} changed (version ${stored.version})`);
    this.#rooms.set(room.id, structuredClone(room));
  }

  async delete(id: string): Promise<boolean> {
    return this.#rooms.delete(id);
  }
}
