import type { NonceLedger } from '../../ports/nonces.ts';

export class MemoryNonceLedger implements NonceLedger {
  readonly #expiry = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    this.#sweep(now);
    const expiresAt = this.#expiry.get(key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    // Re-inserted at the end, so the map stays roughly in expiry order for #sweep.
    this.#expiry.delete(key);
    this.#expiry.set(key, now + ttlMs);
    return true;
  }

  /** Drops expired entries from the front (oldest first): amortised O(1) per claim. */
  #sweep(now: number): void {
    for (const [key, at] of this.#expiry) {
      if (at > now) return;
      this.#expiry.delete(key);
    }
  }
}
