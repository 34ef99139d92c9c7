import { describe, expect, it } from 'vitest';
import { clusterMetrics, embeddedMetricRecord } from '../../functions/metrics/clusterMetrics.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const now = 1_800_000_000_000;
const at = (id: string, o: Parameters<typeof nodeReport>[1]) =>
  nodeReport(id, { reportedAt: now - 500, ...o });

describe('cluster metrics', () => {
  it('counts reporting and draining nodes and averages the load of the nodes open to new rooms', () => {
    const m = clusterMetrics(
      [
        at('a', { load: 0.5, rooms: 4 }),
        at('b', { load: 0.9, rooms: 7 }), // full, still open to its rooms and counted in the load
        at('c', { load: 0.1, rooms: 1, draining: true }),
        at('d', { load: 0.2, rooms: 5, reportedAt: now - 3500 }), // stale: not a heartbeat
      ],
      now,
    );
    expect(m).toEqual({
      MediaNodesReporting: 3,
      MediaNodesDraining: 1,
      MediaNodeLoad: 0.7,
      MediaNodeLoadMax: 0.9,
      Rooms: 12,
    });
  });

  it('reports full load when no node takes new rooms, so the group scales out', () => {
    expect(clusterMetrics([], now)).toMatchObject({ MediaNodesReporting: 0, MediaNodeLoad: 1 });
    expect(clusterMetrics([at('c', { draining: true, load: 0 })], now)).toMatchObject({ MediaNodeLoad: 1 });
  });

  it('writes an Embedded Metric Format record: every metric declared and valued, the dimension set', () => {
    const metrics = clusterMetrics([at('a', { load: 0.25 })], now);
    const record = embeddedMetricRecord('prod', metrics, now);
    const [directive] = record._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('Tessera');
    expect(directive!.Dimensions).toEqual([['Deployment']]);
    expect(record.Deployment).toBe('prod');
    expect(record._aws.Timestamp).toBe(now);
    for (const { Name } of directive!.Metrics)
      expect(typeof record[Name as keyof typeof metrics]).toBe('number');
    expect(directive!.Metrics.map((m) => m.Name).sort()).toEqual(Object.keys(metrics).sort());
  });
});
