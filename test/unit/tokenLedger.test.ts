import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryTokenLedger } from '../../shared/adapters/memory/MemoryTokenLedger.ts';

type Op =
  | { op: 'record'; id: number; ttl: number }
  | { op: 'redeem'; id: number }
  | { op: 'wait'; ms: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('record' as const), id: fc.nat(20), ttl: fc.integer({ min: 1, max: 100 }) }),
    fc.record({ op: fc.constant('redeem' as const), id: fc.nat(20) }),
    fc.record({ op: fc.constant('wait' as const), ms: fc.nat(60) }),
  ),
  { maxLength: 200 },
);

describe('MemoryTokenLedger', () => {
  it('redeems exactly what a plain map would: each recorded, unexpired id once (random histories)', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (history: Op[]) => {
        let now = 1000;
        const ledger = new MemoryTokenLedger(() => now);
        const model = new Map<number, number>();
        for (const step of history) {
          if (step.op === 'wait') now += step.ms;
          else if (step.op === 'record') {
            await ledger.record(`t${step.id}`, now + step.ttl);
            model.set(step.id, now + step.ttl);
          } else {
            const at = model.get(step.id);
            model.delete(step.id);
            expect(await ledger.redeem(`t${step.id}`)).toBe(at !== undefined && at > now);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('drops expired ids as new ones arrive, so what it holds is what is outstanding', async () => {
    let now = 0;
    const ledger = new MemoryTokenLedger(() => now);
    for (let i = 0; i < 50_000; i++) await ledger.record(`old-${i}`, now + 60_000);
    expect(ledger.size).toBe(50_000);
    now += 60_001;
    await ledger.record('new', now + 60_000);
    expect(ledger.size).toBe(1);
    expect(await ledger.redeem('old-7')).toBe(false);
    expect(await ledger.redeem('new')).toBe(true);
  });
});
