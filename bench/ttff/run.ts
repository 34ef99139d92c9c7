// Time to first frame: a publisher sends its fake camera; N subscribers join one after another,
// each measuring the start of the join (before the router capabilities are fetched) → first
// decoded remote video frame (getStats polled every 10 ms; Chromium caches stats for ~50 ms, so
// this reads up to ~50 ms late). Each Tessera join alternates with one against bare mediasoup
// (bareSfu.ts: same worker binary and codecs, the least signaling), whose ratio is the result.
//
// Usage: npm run bench:ttff -- [--joins 30] [--mode embedded|cluster]
// cluster: redis-server, DynamoDB Local and the SQS emulator are started here, then the gateway
// emulator, the functions and a media node as separate processes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../test/harness/chromium.ts';
import { startLocalCluster } from '../../test/harness/cluster.ts';
import { startEmbedded } from '../../test/harness/embedded.ts';
import { bundleForBrowser, servePages } from '../../test/harness/pageServer.ts';
import { startClusterStores } from '../clusterStores.ts';
import { startBareSfu } from './bareSfu.ts';

const here = dirname(fileURLToPath(import.meta.url));
const joinsArg = process.argv.indexOf('--joins');
const JOINS = joinsArg > 0 ? Number(process.argv[joinsArg + 1]) : 30;
const MODE = process.argv.includes('cluster') ? 'cluster' : 'embedded';

interface Target {
  url: string;
  signalingUrl?: string;
  token(room: string, user: string): Promise<string>;
  close(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  if (MODE === 'embedded') return startEmbedded({ MEDIA_WORKERS: '2' });
  const stores = await startClusterStores();
  const cluster = await startLocalCluster();
  return {
    url: cluster.url,
    signalingUrl: cluster.signalingUrl,
    token: cluster.token,
    async close() {
      await cluster.close();
      await stores.stop();
    },
  };
}

const server = await startTarget();
const bare = await startBareSfu();
const pages = await servePages({
  '/': ['text/html', '<!doctype html><title>ttff</title><script type="module" src="/page.js"></script>'],
  '/page.js': ['text/javascript', await bundleForBrowser(join(here, 'page.ts'))],
});
const [pubBrowser, subBrowser] = await Promise.all([launchChromium(), launchChromium()]);
const publisher = await pubBrowser.newPage();
await publisher.goto(pages.url);
const publisherToken = await server.token('ttff', 'publisher');
await publisher.evaluate(([u, t, s]) => window.ttffPublish(u, t, s), [
  server.url,
  publisherToken,
  server.signalingUrl,
] as const);
const barePublisher = await pubBrowser.newPage();
await barePublisher.goto(pages.url);
await barePublisher.evaluate((u) => window.barePublish(u), bare.url);
await new Promise((r) => setTimeout(r, 5000)); // let the publishers' bandwidth estimates settle

const loadBefore = loadavg();
const runs: Record<string, number>[] = [];
const bareRuns: Record<string, number>[] = [];
/** One subscriber's join, in a fresh browser context. */
async function measure(target: 'tessera' | 'bare', i: number): Promise<Record<string, number>> {
  const context = await subBrowser.newContext();
  const page = await context.newPage();
  await page.goto(pages.url);
  const result =
    target === 'bare'
      ? await page.evaluate((u) => window.bareMeasure(u), bare.url)
      : await page.evaluate(([u, t, s]) => window.ttffMeasure(u, t, s), [
          server.url,
          await server.token('ttff', `sub-${i}`),
          server.signalingUrl,
        ] as const);
  await context.close();
  await new Promise((r) => setTimeout(r, 300));
  return result;
}
for (let i = 0; i <= JOINS; i++) {
  // Alternating which goes first, so neither always follows the other's teardown.
  const order = i % 2 === 0 ? (['tessera', 'bare'] as const) : (['bare', 'tessera'] as const);
  const measured: Record<string, Record<string, number>> = {};
  for (const target of order) measured[target] = await measure(target, i);
  if (i === 0) continue; // the first joins warm up the page bundle and codecs
  runs.push(measured.tessera!);
  bareRuns.push(measured.bare!);
}

const pct = (xs: number[], p: number) => {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};
// A milestone no join reached (the connect answer, when the login connected the transports) is left out.
const summarize = (rs: Record<string, number>[]) =>
  Object.fromEntries(
    Object.keys(rs[0]!)
      .filter((k) => rs.some((r) => Number.isFinite(r[k])))
      .map((k) => [
        k,
        {
          p50: pct(
            rs.map((r) => r[k]!),
            50,
          ),
          p95: pct(
            rs.map((r) => r[k]!),
            95,
          ),
        },
      ]),
  );
const summary = summarize(runs);
const bareSummary = summarize(bareRuns);
const ratio = (p: 'p50' | 'p95') => Math.round((summary.fromJoin![p] / bareSummary.fromJoin![p]) * 100) / 100;
const report = {
  date: new Date().toISOString(),
  mode: MODE,
  joins: runs.length,
  unit: 'ms; fromJoin: from the start of the join; the rest since WebSocket open (RTTs: durations)',
  host: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: { before: loadBefore, after: loadavg() } },
  summary,
  baseline: {
    what: 'bare mediasoup, same worker binary and router codecs (bench/ttff/bareSfu.ts)',
    summary: bareSummary,
  },
  ratio: { p50: ratio('p50'), p95: ratio('p95') },
  runs,
  bareRuns,
};
const out = join(here, '..', 'results', `ttff-${MODE}-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.table(summary);
console.table(bareSummary);
console.log(
  `first frame from the start of the join, Tessera ${MODE} / bare mediasoup: p50 ${report.ratio.p50}, p95 ${report.ratio.p95}`,
);
console.log(`wrote ${out}`);
await Promise.all([pubBrowser.close(), subBrowser.close()]);
await pages.close();
await Promise.all([server.close(), bare.close()]);
process.exit(0);
