import type { Departures, PendingDeparture } from '../../ports/departures.ts';

export class MemoryDepartures implements Departures {
  readonly #due = new Map<string, { departure: PendingDeparture; dueAt: number }>();

  async schedule(departure: PendingDeparture, dueAt: number): Promise<void> {
    this.#due.set(keyOf(departure.roomId, departure.participantId), { departure: { ...departure }, dueAt });
  }

  async cancel(roomId: string, participantId: string): Promise<void> {
    this.#due.delete(keyOf(roomId, participantId));
  }

  async takeDue(now: number, max: number): Promise<PendingDeparture[]> {
    const taken: PendingDeparture[] = [];
    for (const [key, entry] of this.#due) {
      if (taken.length >= max) break;
      if (entry.dueAt > now) continue;
      this.#due.delete(key);
      taken.push(entry.departure);
    }
    return taken;
  }
}

const keyOf = (roomId: string, participantId: string) => `${roomId}\n${participantId}`;
