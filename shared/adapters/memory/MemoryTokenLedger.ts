import type { TokenLedger } from '../../ports/live.ts';

export class MemoryTokenLedger implements TokenLedger {
  readonly #expiry = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async record(tokenId: string, expiresAtMs: number): Promise<void> {
    this.#sweep();
    this.#expiry.set(tokenId, expiresAtMs);
  }

  async redeem(tokenId: string): Promise<boolean> {
    const expiresAt = this.#expiry.get(tokenId);
    // Invariant: a token id is deleted on its first redemption, so a second one finds nothing.
    this.#expiry.delete(tokenId);
    return expiresAt !== undefined && expiresAt > this.#now();
  }

  /** Expired ids are dropped as new ones arrive, as Redis expiry does. */
  #sweep(): void {
    const now = this.#now();
    for (const [id, at] of this.#expiry) if (at <= now) this.#expiry.delete(id);
  }
}
