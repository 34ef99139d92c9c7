import type { RateLimiter } from '../../ports/rateLimit.ts';

/** Above this many keys, counters of past windows are dropped (keys come from tenants). */
const SWEEP_ABOVE = 10_000;

export class MemoryRateLimiter implements RateLimiter {
  readonly #counts = new Map<string, { window: number; count: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async take(key: string, limit: number, windowMs: number): Promise<boolean> {
    const window = Math.floor(this.#now() / windowMs);
    const id = `${key}:${windowMs}`;
    let entry = this.#counts.get(id);
    if (!entry || entry.window !== window) {
      if (this.#counts.size >= SWEEP_ABOVE) this.#sweep();
      entry = { window, count: 0 };
      this.#counts.set(id, entry);
    }
    entry.count += 1;
    return entry.count <= limit;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, entry] of this.#counts) {
      const windowMs = Number(id.slice(id.lastIndexOf(':') + 1));
      if (entry.window < Math.floor(now / windowMs)) this.#counts.delete(id);
    }
  }
}
