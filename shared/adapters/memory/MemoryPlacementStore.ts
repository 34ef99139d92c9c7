import { randomUUID } from 'node:crypto';
import type { PlacementLock, PlacementStore } from '../../ports/live.ts';

export class MemoryPlacementStore implements PlacementStore {
  readonly #nodes = new Map<string, string>();
  readonly #locks = new Map<string, { token: string; until: number }>();
  readonly #fences = new Map<string, number>();

  async get(roomId: string): Promise<string | undefined> {
    return this.#nodes.get(roomId);
  }

  async set(roomId: string, nodeId: string): Promise<void> {
    this.#nodes.set(roomId, nodeId);
  }

  async delete(roomId: string): Promise<void> {
    this.#nodes.delete(roomId);
  }

  async lock(roomId: string, ttlMs: number): Promise<PlacementLock> {
    const nodeId = this.#nodes.get(roomId);
    const held = this.#locks.get(roomId);
    if (held && held.until > Date.now()) return { token: undefined, nodeId };
    const token = randomUUID();
    this.#locks.set(roomId, { token, until: Date.now() + ttlMs });
    return { token, nodeId };
  }

  async unlock(roomId: string, token: string): Promise<void> {
    if (this.#locks.get(roomId)?.token === token) this.#locks.delete(roomId);
  }

  async assign(roomId: string, nodeId: string, token: string): Promise<number | undefined> {
    const held = this.#locks.get(roomId);
    if (!held || held.token !== token || held.until <= Date.now()) return undefined;
    const fence = (this.#fences.get(roomId) ?? 0) + 1;
    this.#fences.set(roomId, fence);
    this.#nodes.set(roomId, nodeId);
    this.#locks.delete(roomId);
    return fence;
  }
}
