import type { CommandLedger } from '../../ports/live.ts';

/** Remembers the last `capacity` command ids (redeliveries arrive within minutes, not days). */
export class MemoryCommandLedger implements CommandLedger {
  readonly #seen = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  async firstTime(commandId: string): Promise<boolean> {
    if (this.#seen.has(commandId)) return false;
    this.#seen.add(commandId);
    if (this.#seen.size > this.#capacity) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }
}
