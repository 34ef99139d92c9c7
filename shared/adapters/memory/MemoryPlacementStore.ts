import type { PlacementStore } from '../../ports/live.ts';

export class MemoryPlacementStore implements PlacementStore {
  readonly #nodes = new Map<string, string>();

  async get(roomId: string): Promise<string | undefined> {
    return this.#nodes.get(roomId);
  }

  async set(roomId: string, nodeId: string): Promise<void> {
    this.#nodes.set(roomId, nodeId);
  }

  async delete(roomId: string): Promise<void> {
    this.#nodes.delete(roomId);
  }
}
