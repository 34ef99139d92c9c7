import type { types } from 'mediasoup';

/** A router of a room on one worker, with that worker's WebRtcServer. */
export interface RouterSlot {
  router: types.Router;
  webRtcServer: types.WebRtcServer;
  worker: types.Worker;
}

export interface RoomRoutersOptions {
  /** Participants per router before the room grows onto another worker (0: no limit). */
  peersPerRouter: number;
  /** A router on a worker the room does not use yet, or undefined when there is none. */
  growOnto?: ((used: types.Worker[]) => Promise<RouterSlot | undefined>) | undefined;
}

/**
 * The routers of one room on this node. A room starts on one worker and, when its router holds
 * `peersPerRouter` participants, grows onto another worker; streams cross between the room's
 * routers with pipeToRouter, once per stream and router, shared by every subscriber there.
 */
export class RoomRouters {
  readonly #slots: RouterSlot[];
  readonly #byPeer = new Map<string, RouterSlot>();
  readonly #piped = new Map<string, Promise<void>>();
  readonly #options: RoomRoutersOptions;

  constructor(primary: RouterSlot, options: RoomRoutersOptions) {
    this.#slots = [primary];
    this.#options = options;
  }

  /** The primary router: the active-speaker observer and the cascade to other nodes live there. */
  get primary(): types.Router {
    return this.#slots[0]!.router;
  }

  get all(): readonly RouterSlot[] {
    return this.#slots;
  }

  /** The router a participant is on (the primary until it is assigned). */
  of(peerId: string): RouterSlot {
    return this.#byPeer.get(peerId) ?? this.#slots[0]!;
  }

  /**
   * Assigns a new participant: a router with room left, else a new router on a worker the room
   * does not use yet, else the least full one. Returns the new slot when the room grew.
   */
  async assign(peerId: string): Promise<RouterSlot | undefined> {
    const limit = this.#options.peersPerRouter;
    const load = (slot: RouterSlot) => [...this.#byPeer.values()].filter((s) => s === slot).length;
    let slot = limit > 0 ? this.#slots.find((s) => load(s) < limit) : this.#slots[0];
    let grown: RouterSlot | undefined;
    if (!slot) {
      grown = await this.#options.growOnto?.(this.#slots.map((s) => s.worker));
      if (grown) this.#slots.push(grown);
      slot = grown ?? [...this.#slots].sort((a, b) => load(a) - load(b))[0]!;
    }
    this.#byPeer.set(peerId, slot);
    return grown;
  }

  release(peerId: string): void {
    this.#byPeer.delete(peerId);
  }

  /** Makes a (data) producer that lives on `source` available on `target`; once per pair. */
  async pipe(id: string, source: types.Router, target: types.Router, data = false): Promise<void> {
    if (source === target) return;
    const key = `${id}:${target.id}`;
    let piping = this.#piped.get(key);
    if (!piping) {
      piping = source
        .pipeToRouter({ ...(data ? { dataProducerId: id } : { producerId: id }), router: target })
        .then(() => {});
      this.#piped.set(key, piping);
      piping.catch(() => this.#piped.delete(key));
    }
    await piping;
  }

  close(): void {
    for (const slot of this.#slots) slot.router.close();
  }
}
