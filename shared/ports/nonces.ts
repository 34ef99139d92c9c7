/**
 * Values that may be used once within a window (MAuth's cnonce + timestamp): a signed header
 * stays valid for the whole clock-skew window, so without this it could be replayed.
 */
export interface NonceLedger {
  /** True for the first claim of `key`; false for every later one until `ttlMs` has passed. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
}
