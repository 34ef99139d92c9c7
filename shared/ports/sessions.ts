import type { ConnectionRecord } from './gateway.ts';

/** What a resume ticket stands for: a participant's place, as its connection record had it. */
export interface ResumeTicket {
  roomId: string;
  nodeId: string;
  participant: ConnectionRecord['participant'];
  /** The connection the ticket was issued to (a resume supersedes it). */
  connectionId: string;
}

/**
 * Resume tickets (OWT's reconnection ticket): a participant that lost its WebSocket reconnects
 * with one to the same place in the room. Stored by the hash of the secret the client holds, so
 * the store alone never yields a usable ticket. Single use: `take` removes it atomically.
 */
export interface ResumeTickets {
  put(id: string, ticket: ResumeTicket, ttlMs: number): Promise<void>;
  get(id: string): Promise<ResumeTicket | undefined>;
  /** The ticket, removed: of concurrent takes exactly one gets it. */
  take(id: string): Promise<ResumeTicket | undefined>;
  /**
   * The ticket for a login on connection `by`: of concurrent claims by different connections
   * exactly one gets it, and that one gets it again (its login retried while the first attempt
   * was still running) until `holdMs` have passed; then it is gone. `get` no longer sees it.
   */
  claim(id: string, by: string, holdMs: number): Promise<ResumeTicket | undefined>;
  /** Sets how much longer the ticket lives (its socket closed: the grace period). */
  expire(id: string, ttlMs: number): Promise<void>;
}
