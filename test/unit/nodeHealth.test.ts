import { describe, expect, it } from 'vitest';
import {
  isFresh,
  isServing,
  keepsSessions,
  NODE_FRESH_MS,
  NODE_MAX_LOAD,
  nodeState,
  unavailability,
} from '../../shared/placement/nodeHealth.ts';
import type { NodeReport } from '../../shared/ports/nodes.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const NOW = 1_000_000;
const node = (o: Partial<NodeReport> = {}) => nodeReport('n', { reportedAt: NOW - 500, ...o });

describe('node health: one rule for placement, the placer, /v1/nodes and the metrics', () => {
  it('gives a node three one-second reports and OWT max_load', () => {
    expect([NODE_FRESH_MS, NODE_MAX_LOAD]).toEqual([3000, 0.85]);
    expect(isFresh(node({ reportedAt: NOW - 3000 }), NOW)).toBe(true);
    expect(isFresh(node({ reportedAt: NOW - 3001 }), NOW)).toBe(false);
    expect(isFresh(node({ reportedAt: NOW - 1500 }), NOW, 1200)).toBe(false);
  });

  it.each<[string, Partial<NodeReport>, ReturnType<typeof unavailability>, ReturnType<typeof nodeState>]>([
    ['a fresh, idle node', {}, undefined, 'ready'],
    ['a node that missed three reports', { reportedAt: NOW - 3001 }, 'stale', 'stale'],
    ['a stale node that was draining', { reportedAt: NOW - 5000, draining: true }, 'stale', 'stale'],
    ['a draining node, busy too', { draining: true, load: 0.95 }, 'draining', 'draining'],
    ['a node with no live worker', { workersAlive: 0, load: 0 }, 'no-workers', 'full'],
    ['a node at the load limit', { load: 0.85 }, 'overloaded', 'full'],
    ['a node just under it', { load: 0.849 }, undefined, 'ready'],
  ])('%s', (_what, report, why, state) => {
    expect(unavailability(node(report), NOW)).toBe(why);
    expect(nodeState(node(report), NOW)).toBe(state);
  });

  it('takes custom limits for placement', () => {
    expect(unavailability(node({ load: 0.6 }), NOW, { maxLoad: 0.5 })).toBe('overloaded');
    expect(unavailability(node({ reportedAt: NOW - 2000 }), NOW, { freshnessMs: 1000 })).toBe('stale');
  });

  it('lets a draining or busy node keep its rooms, and only a draining one lose its returning sessions', () => {
    for (const o of [{}, { load: 0.99 }, { draining: true }]) expect(isServing(node(o))).toBe(true);
    expect(isServing(node({ workersAlive: 0 }))).toBe(false);
    expect(keepsSessions(node({ load: 0.99 }))).toBe(true);
    expect(keepsSessions(node({ draining: true }))).toBe(false);
    expect(keepsSessions(node({ workersAlive: 0 }))).toBe(false);
  });
});
