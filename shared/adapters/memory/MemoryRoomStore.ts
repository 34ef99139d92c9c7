import { ConflictError, ErrorCodes, NotFoundError } from '../../errors.ts';
import type { Page, PageRequest, RoomStore } from '../../ports/durable.ts';
import type { Room } from '../../protocol/http/room.ts';
import { roomKey } from '../../protocol/http/roomKey.ts';
import { CreationOrder } from './paging.ts';

export class MemoryRoomStore implements RoomStore {
  readonly #rooms = new Map<string, Room>();
  /** Per service, its rooms in creation order: a page reads and clones only its own rooms. */
  readonly #byService = new Map<string, CreationOrder>();

  async create(room: Room): Promise<void> {
    const key = roomKey(room.serviceId, room.id);
    if (this.#rooms.has(key)) throw new ConflictError(`room ${room.id} exists`);
    this.#rooms.set(key, structuredClone(room));
    this.#index(room);
  }

  async get(serviceId: string, id: string): Promise<Room | undefined> {
    const room = this.#rooms.get(roomKey(serviceId, id));
    return room && structuredClone(room);
  }

  async list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    const keys = (this.#byService.get(serviceId) ?? new CreationOrder()).page(page);
    return {
      ...keys,
      items: keys.items.map((key) =>
        structuredClone(this.#rooms.get(roomKey(serviceId, key.slice(key.indexOf('#') + 1)))!),
      ),
    };
  }

  async count(serviceId: string): Promise<number> {
    return this.#byService.get(serviceId)?.size ?? 0;
  }

  async update(room: Room): Promise<void> {
    const key = roomKey(room.serviceId, room.id);
    const stored = this.#rooms.get(key);
    if (!stored) throw new NotFoundError(ErrorCodes.roomNotFound, `room ${room.id} not found`);
    if (stored.version !== room.version - 1)
      throw new ConflictError(`room ${room.id} changed (version ${stored.version})`);
    this.#unindex(stored);
    this.#rooms.set(key, structuredClone(room));
    this.#index(room);
  }

  async delete(serviceId: string, id: string): Promise<boolean> {
    const key = roomKey(serviceId, id);
    const stored = this.#rooms.get(key);
    if (!stored) return false;
    this.#unindex(stored);
    return this.#rooms.delete(key);
  }

  #index(room: Room): void {
    const order = this.#byService.get(room.serviceId) ?? new CreationOrder();
    this.#byService.set(room.serviceId, order);
    order.add(CreationOrder.key(room));
  }

  #unindex(room: Room): void {
    const order = this.#byService.get(room.serviceId);
    order?.remove(CreationOrder.key(room));
    if (order?.size === 0) this.#byService.delete(room.serviceId);
  }
}
