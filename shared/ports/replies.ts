/**
 * Answers a media node sends back to the function that is waiting for them, for requests that
 * come over HTTP and so have no WebSocket to answer on (WHIP's SDP offer). One answer per id;
 * an answer nobody waits for expires.
 */
export interface Replies {
  /** The answer posted for `id`, or undefined after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<unknown>;
  post(id: string, value: unknown): Promise<void>;
}

/** How long an answer is kept for a waiter that has not started waiting yet. */
export const REPLY_TTL_MS = 30_000;
