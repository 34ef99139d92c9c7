/** Fixed-window rate limits shared by every function process (join tokens per service …). */
export interface RateLimiter {
  /**
   * Counts one use of `key` in the current window of `windowMs`; false when that makes more
   * than `limit` uses in the window (the use is refused, though still counted).
   */
  take(key: string, limit: number, windowMs: number): Promise<boolean>;
}
