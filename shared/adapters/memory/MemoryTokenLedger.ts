import type { TokenLedger } from '../../ports/live.ts';

/**
 * Join-token ids until they are redeemed or expire, in process. Expired ids are dropped as new
 * ones arrive (as Redis expiry does), from a min-heap of expiry times: each record costs
 * O(log n) however many tokens are outstanding (a full sweep per record halved the issue rate
 * at 16,000 outstanding tokens).
 */
export class MemoryTokenLedger implements TokenLedger {
  readonly #expiry = new Map<string, number>();
  readonly #byExpiry = new ExpiryHeap();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Ids held (outstanding, or expired and not yet dropped). */
  get size(): number {
    return this.#expiry.size;
  }

  async record(tokenId: string, expiresAtMs: number): Promise<void> {
    this.#dropExpired();
    this.#expiry.set(tokenId, expiresAtMs);
    this.#byExpiry.push(expiresAtMs, tokenId);
  }

  async redeem(tokenId: string): Promise<boolean> {
    const expiresAt = this.#expiry.get(tokenId);
    // Invariant: a token id is deleted on its first redemption, so a second one finds nothing.
    this.#expiry.delete(tokenId);
    return expiresAt !== undefined && expiresAt > this.#now();
  }

  #dropExpired(): void {
    const now = this.#now();
    for (let top = this.#byExpiry.peek(); top && top.at <= now; top = this.#byExpiry.peek()) {
      this.#byExpiry.pop();
      // Redeemed already, or recorded again with a later expiry: not this entry's to drop.
      if (this.#expiry.get(top.id) === top.at) this.#expiry.delete(top.id);
    }
  }
}

/** A binary min-heap of (expiry, id). */
class ExpiryHeap {
  readonly #at: number[] = [];
  readonly #ids: string[] = [];

  peek(): { at: number; id: string } | undefined {
    return this.#at.length > 0 ? { at: this.#at[0]!, id: this.#ids[0]! } : undefined;
  }

  push(at: number, id: string): void {
    let i = this.#at.length;
    this.#at.push(at);
    this.#ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent]! <= at) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#at[i] = at;
    this.#ids[i] = id;
  }

  pop(): void {
    const lastAt = this.#at.pop()!;
    const lastId = this.#ids.pop()!;
    const n = this.#at.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const child = left + 1 < n && this.#at[left + 1]! < this.#at[left]! ? left + 1 : left;
      if (this.#at[child]! >= lastAt) break;
      this.#move(child, i);
      i = child;
    }
    this.#at[i] = lastAt;
    this.#ids[i] = lastId;
  }

  #move(from: number, to: number): void {
    this.#at[to] = this.#at[from]!;
    this.#ids[to] = this.#ids[from]!;
  }
}
