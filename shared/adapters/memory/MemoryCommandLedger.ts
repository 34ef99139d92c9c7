import type { CommandLedger } from '../../ports/live.ts';

/** Remembers command ids for their time, and at most the last `capacity` of them. */
export class MemoryCommandLedger implements CommandLedger {
  readonly #seen = new Map<string, number>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(capacity = 100_000, now: () => number = Date.now) {
    this.#capacity = capacity;
    this.#now = now;
  }

  async firstTime(commandId: string, rememberMs: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#seen.get(commandId);
    if (until !== undefined && until > now) return false;
    this.#seen.delete(commandId);
    this.#seen.set(commandId, now + rememberMs);
    // Oldest first (insertion order): drop what has expired, and past capacity the oldest.
    for (const [id, at] of this.#seen) {
      if (at > now && this.#seen.size <= this.#capacity) break;
      this.#seen.delete(id);
    }
    return true;
  }
}
