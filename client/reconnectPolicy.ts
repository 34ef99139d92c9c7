/**
 * When to try again after a failed rejoin: capped exponential backoff with full jitter (AWS
 * "Exponential Backoff and Jitter"; LiveKit's DefaultReconnectPolicy is in the same spirit).
 * Attempt n waits a uniformly random time in [0, min(capMs, baseMs · factor^n)): the first try
 * comes quickly, and clients that lost the same media node at the same moment spread out
 * instead of retrying in lock-step. Pure: no timers, no DOM; randomness is passed in.
 */
export interface ReconnectPolicyOptions {
  /** Upper bound of the first attempt's delay (ms). */
  baseMs?: number;
  /** No delay reaches this (ms). */
  capMs?: number;
  /** Growth of the upper bound per attempt. */
  factor?: number;
}

export const DEFAULT_RECONNECT_POLICY: Required<ReconnectPolicyOptions> = {
  baseMs: 300,
  capMs: 5000,
  factor: 2,
};

export class ReconnectPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconnectPolicyError';
  }
}

function settle(options: ReconnectPolicyOptions): Required<ReconnectPolicyOptions> {
  const o = { ...DEFAULT_RECONNECT_POLICY, ...options };
  const ok = (n: number) => Number.isFinite(n) && n >= 0;
  if (!ok(o.baseMs) || !ok(o.capMs) || !(Number.isFinite(o.factor) && o.factor >= 1))
    throw new ReconnectPolicyError('reconnect policy: baseMs and capMs must be ≥ 0 and factor ≥ 1');
  return o;
}

/** The exclusive upper bound of attempt `attempt`'s delay (0-based; non-decreasing in it). */
export function delayCeiling(attempt: number, options: ReconnectPolicyOptions = {}): number {
  const { baseMs, capMs, factor } = settle(options);
  // A bad attempt number (negative, NaN) is the first attempt, not a crash in a retry loop.
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // factor^n overflows to Infinity for huge n (min() caps that), and 0 × Infinity is NaN.
  return baseMs === 0 ? 0 : Math.min(capMs, baseMs * factor ** n);
}

/** How long to wait before attempt `attempt` (0-based): uniform in [0, delayCeiling(attempt)). */
export function nextDelay(
  attempt: number,
  random: () => number = Math.random,
  options: ReconnectPolicyOptions = {},
): number {
  const ceiling = delayCeiling(attempt, options);
  const r = random();
  // A random source outside [0, 1) must not push a delay past its bound.
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
  return Math.floor(unit * ceiling);
}
