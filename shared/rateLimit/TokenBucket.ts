/** Milliseconds from some fixed origin; injected so tests drive time themselves. */
export type Clock = () => number;

export interface BucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Most tokens the bucket holds (the burst a quiet caller may spend at once). */
  burst: number;
  now?: Clock;
}

/**
 * A token bucket: `take()` spends a token if one is there. Refilled lazily from the clock on
 * each call, so an idle bucket costs nothing. Pure apart from the injected clock.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: Clock;
  #tokens: number;
  #at: number;

  constructor(options: BucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1))
      throw new RangeError('a token bucket needs ratePerSecond > 0 and burst >= 1');
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.burst;
    this.#at = this.#now();
  }

  /** Spends `n` tokens and returns true, or spends nothing and returns false. */
  take(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Tokens available now (fractional while refilling). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** A full bucket is indistinguishable from a new one, so its owner may forget it. */
  get full(): boolean {
    return this.tokens >= this.#burst;
  }

  #refill(): void {
    const now = this.#now();
    // A clock stepping backwards (wall clock adjusted) refills nothing rather than draining.
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
  }
}

/**
 * One bucket per key (a connection, a participant). Memory stays bounded: owners `delete` keys
 * that are gone, and full buckets (equal to fresh ones) are swept whenever the map has doubled
 * since the last sweep, which costs amortised O(1) per `take`.
 */
export class KeyedRateLimiter {
  readonly #options: BucketOptions;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #minSweep: number;
  #sweepAt: number;

  constructor(options: BucketOptions & { sweepAbove?: number }) {
    this.#options = options;
    this.#minSweep = options.sweepAbove ?? 1024;
    this.#sweepAt = this.#minSweep;
    new TokenBucket(options); // validates the options now, not on first use
  }

  take(key: string, n = 1): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.sweep();
      bucket = new TokenBucket(this.#options);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(n);
  }

  delete(key: string): void {
    this.#buckets.delete(key);
  }

  /** Forgets every full bucket. */
  sweep(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
    this.#sweepAt = Math.max(this.#minSweep, this.#buckets.size * 2);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
