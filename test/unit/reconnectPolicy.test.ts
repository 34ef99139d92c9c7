import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECONNECT_POLICY,
  delayCeiling,
  nextDelay,
  ReconnectPolicyError,
} from '../../client/reconnectPolicy.ts';

const attempts = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(-1, Number.NaN, 1e9));
const unit = fc.double({ min: 0, max: 1, noNaN: true });
const options = fc.record({
  baseMs: fc.integer({ min: 0, max: 10_000 }),
  capMs: fc.integer({ min: 0, max: 60_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
});

describe('reconnect policy (capped exponential backoff, full jitter)', () => {
  it('the first attempt comes quickly and the bound grows to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => delayCeiling(n))).toEqual([
      300, 600, 1200, 2400, 4800, 5000, 5000,
    ]);
    expect(nextDelay(0, () => 0)).toBe(0);
    expect(nextDelay(0, () => 0.999)).toBeLessThan(300);
  });

  it('every delay is in [0, ceiling) and never above the cap, whatever the random source says', () => {
    fc.assert(
      fc.property(attempts, fc.oneof(unit, fc.constantFrom(-5, 7, Number.NaN)), options, (n, r, o) => {
        const delay = nextDelay(n, () => r, o);
        const ceiling = delayCeiling(n, o);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        if (ceiling > 0) expect(delay).toBeLessThan(ceiling);
        else expect(delay).toBe(0);
        expect(delay).toBeLessThanOrEqual(o.capMs);
      }),
    );
  });

  it('the upper bound never decreases from one attempt to the next', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), options, (n, o) => {
        expect(delayCeiling(n + 1, o)).toBeGreaterThanOrEqual(delayCeiling(n, o));
      }),
    );
  });

  it('spreads clients: 20 first retries drawn from Math.random are not all alike', () => {
    const delays = Array.from({ length: 20 }, () => nextDelay(3));
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(Math.max(...delays)).toBeLessThan(DEFAULT_RECONNECT_POLICY.baseMs * 8);
  });

  it('refuses settings that make no sense', () => {
    expect(() => delayCeiling(0, { factor: 0.5 })).toThrow(ReconnectPolicyError);
    expect(() => delayCeiling(0, { capMs: -1 })).toThrow(ReconnectPolicyError);
  });
});
