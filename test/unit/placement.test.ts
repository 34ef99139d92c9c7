import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  choose,
  initialState,
  type PlacementRequest,
  rejection,
  type StrategyState,
} from '../../shared/placement/placement.ts';
import type { NodeReport } from '../../shared/ports/nodes.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const NOW = 1_000_000;
const node = (id: string, o: Partial<NodeReport> = {}) => nodeReport(id, { reportedAt: NOW - 500, ...o });
const request = (o: Partial<PlacementRequest> = {}): PlacementRequest => ({
  strategy: 'least-used',
  now: NOW,
  ...o,
});

describe('placement filters', () => {
  it.each<[string, Partial<NodeReport>, Partial<PlacementRequest>, ReturnType<typeof rejection>]>([
    ['a fresh, idle node', {}, {}, undefined],
    ['a node that missed three reports', { reportedAt: NOW - 3001 }, {}, 'stale'],
    ['a node whose last report is 3 s old', { reportedAt: NOW - 3000 }, {}, undefined],
    ['a draining node', { draining: true }, {}, 'draining'],
    ['a node with no live worker', { workersAlive: 0 }, {}, 'no-workers'],
    ['a node at 0.85 load', { load: 0.85 }, {}, 'overloaded'],
    ['a node just under 0.85', { load: 0.849 }, {}, undefined],
    ['a node over a custom limit', { load: 0.6 }, { maxLoad: 0.5 }, 'overloaded'],
    ['a node without a required capability', {}, { requires: ['sfu', 'mix'] }, 'incapable'],
    [
      'a node with every required capability',
      { capabilities: ['sfu', 'mix'] },
      { requires: ['mix'] },
      undefined,
    ],
  ])('%s', (_what, report, req, expected) => {
    expect(rejection(node('n', report), request(req))).toBe(expected);
  });

  it.each<[string, Partial<PlacementRequest>['preference'], string[]]>([
    ['no preference: every eligible node', undefined, ['a', 'b', 'c', 'd']],
    ['region and ISP match', { region: 'eu', isp: 'x' }, ['a']],
    ['region matches, ISP does not: region wins', { region: 'eu', isp: 'z' }, ['a', 'b']],
    ['nothing matches: any eligible node', { region: 'ap' }, ['a', 'b', 'c', 'd']],
  ])('preference: %s', (_what, preference, expected) => {
    const nodes = [
      node('a', { region: 'eu', isp: 'x' }),
      node('b', { region: 'eu', isp: 'y' }),
      node('c', { region: 'us', isp: 'x' }),
      node('d'),
      node('e', { region: 'eu', isp: 'x', draining: true }),
    ];
    const picked = new Set<string>();
    let state: StrategyState = initialState();
    for (let i = 0; i < 8; i++) {
      const result = choose(nodes, request({ strategy: 'round-robin', preference }), state);
      picked.add(result.node!.id);
      state = result.state;
    }
    expect([...picked].sort()).toEqual(expected);
  });
});

describe('placement strategies', () => {
  const nodes = [
    node('a', { load: 0.5, rooms: 5 }),
    node('b', { load: 0.2, rooms: 9 }),
    node('c', { load: 0.7, rooms: 1 }),
    node('d', { load: 0.9 }),
  ];

  it.each<[PlacementRequest['strategy'], string]>([
    ['least-used', 'b'],
    ['most-used', 'c'],
  ])('%s picks %s', (strategy, expected) => {
    expect(choose(nodes, request({ strategy })).node?.id).toBe(expected);
  });

  it('least-used breaks load ties by fewer rooms', () => {
    expect(
      choose([node('x', { load: 0.3, rooms: 4 }), node('y', { load: 0.3, rooms: 2 })], request()).node?.id,
    ).toBe('y');
  });

  it('last-used keeps the last node while it is eligible, then falls back to least-used', () => {
    const state = { ...initialState(), lastUsed: 'c' };
    expect(choose(nodes, request({ strategy: 'last-used' }), state).node?.id).toBe('c');
    expect(choose(nodes, request({ strategy: 'last-used' }), { ...state, lastUsed: 'd' }).node?.id).toBe('b');
  });

  it('round-robin cycles through the eligible nodes in id order', () => {
    let state = initialState();
    const picks = [];
    for (let i = 0; i < 6; i++) {
      const r = choose(nodes, request({ strategy: 'round-robin' }), state);
      picks.push(r.node!.id);
      state = r.state;
    }
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('random picks by the given randomness', () => {
    expect(choose(nodes, request({ strategy: 'random', random: () => 0 })).node?.id).toBe('a');
    expect(choose(nodes, request({ strategy: 'random', random: () => 0.99 })).node?.id).toBe('c');
  });

  it('weighted round-robin sends more rooms to nodes with more headroom, in proportion', () => {
    const two = [
      node('big', { workersAlive: 4, load: 0.05 }),
      node('small', { workersAlive: 1, load: 0.05 }),
    ];
    let state = initialState();
    const counts: Record<string, number> = { big: 0, small: 0 };
    for (let i = 0; i < 50; i++) {
      const r = choose(two, request({ strategy: 'weighted-round-robin' }), state);
      counts[r.node!.id]!++;
      state = r.state;
    }
    expect(counts).toEqual({ big: 40, small: 10 });
  });

  it('finds nothing when no node is eligible', () => {
    expect(choose([node('d', { load: 0.9 }), node('s', { reportedAt: 0 })], request()).node).toBeUndefined();
  });
});

describe('least-used and most-used without a sort', () => {
  // The reference: the reports sorted by id, then stably by load and rooms (what choose did before).
  const reference = (nodes: NodeReport[], most: boolean) => {
    const byLoad = (a: NodeReport, b: NodeReport) => a.load - b.load || a.rooms - b.rooms;
    const byId = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return byId.sort((a, b) => (most ? byLoad(b, a) : byLoad(a, b)))[0]?.id;
  };
  it('picks what sorting would, ties to the lowest id, whatever the report order', () => {
    const reports = fc.uniqueArray(
      fc.record({
        id: fc.constantFrom(...'abcdefghijklmnop'.split('')),
        load: fc.constantFrom(0, 0.2, 0.5, 0.8),
        rooms: fc.integer({ min: 0, max: 3 }),
      }),
      { selector: (r) => r.id, maxLength: 12 },
    );
    fc.assert(
      fc.property(reports, fc.boolean(), (rs, most) => {
        const nodes = rs.map((r) => node(r.id, { load: r.load, rooms: r.rooms }));
        const { node: chosen } = choose(nodes, request({ strategy: most ? 'most-used' : 'least-used' }));
        expect(chosen?.id).toBe(reference(nodes, most));
      }),
    );
  });
});
