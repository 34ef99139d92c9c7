/**
 * A small TTL + LRU cache for service keys: every management request looks its key up before
 * any signature check, so without it each request (forged ones included) is a store read.
 * Misses are cached too (`undefined`), so random service ids cannot hammer the store.
 */
export class KeyCache {
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, { key: string | undefined; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The cached lookup, or `load()`'s result (cached, found or not). */
  async get(id: string, load: () => Promise<string | undefined>): Promise<string | undefined> {
    const hit = this.#entries.get(id);
    this.#entries.delete(id);
    if (hit && hit.expiresAt > this.#now()) {
      this.#entries.set(id, hit);
      return hit.key;
    }
    const key = await load();
    this.#entries.delete(id); // a concurrent load may have set it meanwhile
    this.#entries.set(id, { key, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return key;
  }

  invalidate(id: string): void {
    this.#entries.delete(id);
  }
}
