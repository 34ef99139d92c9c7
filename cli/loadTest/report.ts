import { z } from 'zod';
import type { LoadTestProgress, LoadTestResult, Percentiles } from './LoadTest.ts';

/** `tessera load-test`'s options, as typed on the command line (bounded: one host runs them all). */
export const LoadTestArgsSchema = z.strictObject({
  room: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .optional(),
  publishers: z.coerce.number().int().min(1).max(200),
  subscribers: z.coerce.number().int().min(0).max(1000),
  duration: z.coerce.number().min(1).max(3600),
  video: z
    .string()
    .regex(/^\d{2,4}x\d{2,4}@\d{1,2}$/, 'WIDTHxHEIGHT@FPS, e.g. 160x120@10')
    .transform((v) => {
      const [w, h, fps] = v.split(/[x@]/).map(Number) as [number, number, number];
      return { width: w - (w % 2), height: h - (h % 2), fps: Math.max(1, Math.min(fps, 30)) };
    }),
  audio: z.boolean(),
  concurrency: z.coerce.number().int().min(1).max(32),
  publisherRole: z.string().min(1).max(64),
  subscriberRole: z.string().min(1).max(64),
  metrics: z.union([z.url(), z.literal(false)]).optional(),
  signalingUrl: z.url().optional(),
});
export type LoadTestArgs = z.infer<typeof LoadTestArgsSchema>;

/** One progress line: where the run is, who joined, how many tracks arrived. */
export function progressLine(p: LoadTestProgress): string {
  const share = p.expectedTracks ? Math.floor((100 * p.tracks) / p.expectedTracks) : 100;
  return (
    `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s] ${p.phase.padEnd(11)} ` +
    `publishers ${p.publishers}  subscribers ${p.subscribers}  ` +
    `tracks ${p.tracks}/${p.expectedTracks} (${share} %)` +
    (p.failures ? `  failures ${p.failures}` : '')
  );
}

const ms = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '-');
const mbps = (bps: number) => `${(bps / 1e6).toFixed(2)} Mbit/s`;
const pct = (ratio: number) => `${(100 * ratio).toFixed(2)} %`;

/** Rows for the final tables: join times, then the clients' figures beside the server's. */
export function resultTables(r: LoadTestResult) {
  const timing = (what: string, p: Percentiles) => ({
    what,
    n: p.n,
    p50: ms(p.p50),
    p95: ms(p.p95),
    p99: ms(p.p99),
    max: ms(p.max),
  });
  const s = r.server;
  return {
    timings: [
      timing('publisher join + publish (ms)', r.publishers.joinMs),
      timing('subscriber join (ms)', r.subscribers.joinMs),
      timing('subscriber join → every track (ms)', r.subscribers.allTracksMs),
    ],
    figures: [
      {
        what: 'participants',
        clients: r.publishers.joined + r.subscribers.joined,
        server: s?.participants ?? '',
      },
      {
        what: 'tracks received (consumers)',
        clients: `${r.client.tracks}/${r.client.expectedTracks}`,
        server: s?.consumers ?? '',
      },
      { what: 'RTP to subscribers', clients: mbps(r.client.receivedBps), server: s ? mbps(s.rtpOutBps) : '' },
      { what: 'RTP from publishers', clients: mbps(r.client.sentBps), server: s ? mbps(s.rtpInBps) : '' },
      { what: 'packet loss', clients: pct(r.client.lossRatio), server: s ? pct(s.lossRatio) : '' },
      {
        what: 'CPU (cores)',
        clients: `${r.tester.cores.toFixed(2)}, event loop p99 ${r.tester.eventLoopP99Ms} ms`,
        server: s ? `workers ${s.workerCores.toFixed(2)}, process ${s.processCores.toFixed(2)}` : '',
      },
    ],
  };
}

/** Said under the table when the tester was the bottleneck. */
export function saturationWarning(r: LoadTestResult): string {
  return r.tester.saturated
    ? `warning: the load tester was saturated (${r.tester.cores.toFixed(2)} cores, event-loop delay p99 ` +
        `${r.tester.eventLoopP99Ms} ms): its own delays and drops are in these figures. ` +
        'Run fewer users per tester, or testers on other hosts.\n'
    : '';
}
