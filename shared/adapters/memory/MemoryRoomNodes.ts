import type { RoomNodes } from '../../ports/live.ts';

export class MemoryRoomNodes implements RoomNodes {
  readonly #rooms = new Map<string, Map<string, number>>();

  async counts(roomId: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.#rooms.get(roomId) ?? []);
  }

  async add(roomId: string, nodeId: string, delta: number): Promise<void> {
    const room = this.#rooms.get(roomId) ?? new Map<string, number>();
    const next = (room.get(nodeId) ?? 0) + delta;
    if (next > 0) room.set(nodeId, next);
    else room.delete(nodeId);
    this.#rooms.set(roomId, room);
  }
}
