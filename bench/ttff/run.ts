// Time to first frame on the embedded server: a publisher sends its fake camera; N subscribers
// join one after another, each measuring WebSocket open → first decoded remote video frame
// (getStats polled every 10 ms; Chromium caches stats for ~50 ms, so this reads up to ~50 ms late).
//
// Usage: npm run bench:ttff -- [--joins 30] [--mode embedded|cluster]
// cluster: redis-server, DynamoDB Local and the SQS emulator are started here, then the gateway
// emulator, the functions and a media node as separate processes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../test/harness/chromium.ts';
import { startLocalCluster } from '../../test/harness/cluster.ts';
import { startDynamoDbLocal } from '../../test/harness/dynamodb.ts';
import { startEmbedded } from '../../test/harness/embedded.ts';
import { bundleForBrowser, servePages } from '../../test/harness/pageServer.ts';
import { startRedis } from '../../test/harness/redis.ts';
import { startSqs } from '../../test/harness/sqs.ts';

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
  const [redis, dynamodb, sqs] = await Promise.all([startRedis(), startDynamoDbLocal(), startSqs()]);
  Object.assign(process.env, {
    REDIS_URL: redis.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const cluster = await startLocalCluster();
  return {
    url: cluster.url,
    signalingUrl: cluster.signalingUrl,
    token: cluster.token,
    async close() {
      await cluster.close();
      await Promise.all([redis.stop(), dynamodb.stop(), sqs.stop()]);
    },
  };
}

const server = await startTarget();
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
await new Promise((r) => setTimeout(r, 5000)); // let the publisher's bandwidth estimate settle

const runs: Record<string, number>[] = [];
for (let i = 0; i <= JOINS; i++) {
  const context = await subBrowser.newContext();
  const page = await context.newPage();
  await page.goto(pages.url);
  const token = await server.token('ttff', `sub-${i}`);
  const result = await page.evaluate(([u, t, s]) => window.ttffMeasure(u, t, s), [
    server.url,
    token,
    server.signalingUrl,
  ] as const);
  if (i > 0) runs.push(result); // the first join warms up the page bundle and codecs
  await context.close();
  await new Promise((r) => setTimeout(r, 300));
}

const pct = (xs: number[], p: number) => {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};
const phases = Object.keys(runs[0]!);
const summary = Object.fromEntries(
  phases.map((k) => [
    k,
    {
      p50: pct(
        runs.map((r) => r[k]!),
        50,
      ),
      p95: pct(
        runs.map((r) => r[k]!),
        95,
      ),
    },
  ]),
);
const report = {
  date: new Date().toISOString(),
  mode: MODE,
  joins: runs.length,
  unit: 'ms since WebSocket open (RTTs: durations)',
  summary,
  runs,
};
const out = join(here, '..', 'results', `ttff-${MODE}-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.table(summary);
console.log(`wrote ${out}`);
await Promise.all([pubBrowser.close(), subBrowser.close()]);
await pages.close();
await server.close();
process.exit(0);
