import { isFresh } from '../../shared/placement/nodeHealth.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';

/** What the deployment's alarms and media-node scaling read, once a minute. */
export interface ClusterMetrics {
  /** Nodes whose last report is at most 3 s old: the heartbeat the alarms compare with the group. */
  MediaNodesReporting: number;
  MediaNodesDraining: number;
  /**
   * Mean load of the nodes that take new rooms: the scaling metric. With no such node it is 1,
   * so a group whose every node is draining or full scales out.
   */
  MediaNodeLoad: number;
  MediaNodeLoadMax: number;
  Rooms: number;
}

export function clusterMetrics(reports: readonly NodeReport[], now: number): ClusterMetrics {
  const reporting = reports.filter((r) => isFresh(r, now));
  const open = reporting.filter((r) => !r.draining);
  const loads = open.map((r) => r.load);
  return {
    MediaNodesReporting: reporting.length,
    MediaNodesDraining: reporting.length - open.length,
    MediaNodeLoad: loads.length ? round(loads.reduce((a, b) => a + b, 0) / loads.length) : 1,
    MediaNodeLoadMax: loads.length ? round(Math.max(...loads)) : 1,
    Rooms: reporting.reduce((n, r) => n + r.rooms, 0),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export const METRICS_NAMESPACE = 'Tessera';

/**
 * One CloudWatch Embedded Metric Format record: a log line that CloudWatch Logs turns into
 * metrics, so the function needs no PutMetricData permission and makes no extra call.
 */
export function embeddedMetricRecord(deployment: string, metrics: ClusterMetrics, timestamp: number) {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Deployment']],
          Metrics: Object.keys(metrics).map((Name) => ({
            Name,
            Unit: Name === 'Rooms' || Name.startsWith('MediaNodes') ? 'Count' : 'None',
          })),
        },
      ],
    },
    Deployment: deployment,
    ...metrics,
  };
}

/** The scheduled function: reads the nodes' reports and writes one metric record to stdout. */
export function clusterMetricsHandler(
  registry: NodeRegistry,
  deployment: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
) {
  return async (): Promise<ClusterMetrics> => {
    const now = Date.now();
    const metrics = clusterMetrics(await registry.fresh(60_000), now);
    write(JSON.stringify(embeddedMetricRecord(deployment, metrics, now)));
    return metrics;
  };
}
