import type { ResumeTicket, ResumeTickets } from '../../ports/sessions.ts';

export class MemoryResumeTickets implements ResumeTickets {
  readonly #tickets = new Map<string, { ticket: ResumeTicket; expiresAt: number; claimedBy?: string }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async put(id: string, ticket: ResumeTicket, ttlMs: number): Promise<void> {
    this.#sweep();
    this.#tickets.set(id, { ticket: structuredClone(ticket), expiresAt: this.#now() + ttlMs });
  }

  async get(id: string): Promise<ResumeTicket | undefined> {
    const entry = this.#live(id);
    // A claimed ticket is used: only its claimant's retried login still gets it.
    return entry && entry.claimedBy === undefined ? structuredClone(entry.ticket) : undefined;
  }

  async take(id: string): Promise<ResumeTicket | undefined> {
    const entry = this.#live(id);
    this.#tickets.delete(id);
    return entry?.ticket;
  }

  async claim(id: string, by: string, holdMs: number): Promise<ResumeTicket | undefined> {
    const entry = this.#live(id);
    if (!entry || (entry.claimedBy !== undefined && entry.claimedBy !== by)) return undefined;
    if (entry.claimedBy === undefined) {
      entry.claimedBy = by;
      entry.expiresAt = this.#now() + holdMs;
    }
    return structuredClone(entry.ticket);
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    const entry = this.#live(id);
    if (entry) entry.expiresAt = this.#now() + ttlMs;
  }

  #live(id: string) {
    const entry = this.#tickets.get(id);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#tickets.delete(id);
      return undefined;
    }
    return entry;
  }

  /** Expired tickets go as new ones come: the map holds about as many as there are sessions. */
  #sweep(): void {
    const now = this.#now();
    for (const [id, entry] of this.#tickets) if (entry.expiresAt <= now) this.#tickets.delete(id);
  }
}
