// Control-plane throughput (issue #16, goal 2: ≥ 2,000 requests/s per core of the functions
// process for a join-token issue and a room read, with Redis and DynamoDB, emulators' CPU apart).
// The management functions run as the local cluster runs them (functions/entry/node.ts, Redis,
// DynamoDB Local, the SQS emulator); the baseline is a minimal hono app (baseline.ts) answering a
// small JSON body. autocannon drives each in turn from this process, rounds alternating so a
// busier minute favours neither; each target's CPU is read from /proc over its window, so
// requests per core do not depend on what the load generator costs.
//
// Usage: npm run bench:control-plane -- [--window 5] [--rounds 3] [--connections 16] [--profile DIR] [--only NAME]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import autocannon from 'autocannon';
import { z } from 'zod';
import { ensureTable } from '../../shared/adapters/dynamodb/table.ts';
import { startProcess } from '../../test/harness/cluster.ts';
import { bearer } from '../../test/harness/controlPlane.ts';
import { startDynamoDbLocal } from '../../test/harness/dynamodb.ts';
import { freePort } from '../../test/harness/ports.ts';
import { startRedis } from '../../test/harness/redis.ts';
import { startSqs } from '../../test/harness/sqs.ts';
import { arg } from '../args.ts';
import { machine } from '../host.ts';

const here = dirname(fileURLToPath(import.meta.url));
const options = z
  .object({
    window: z.coerce.number().min(1).max(60).default(5),
    rounds: z.coerce.number().int().min(1).max(10).default(3),
    connections: z.coerce.number().int().min(1).max(256).default(16),
  })
  .parse({ window: arg('window'), rounds: arg('rounds'), connections: arg('connections') });

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const [redis, dynamodb, sqs] = await Promise.all([startRedis(), startDynamoDbLocal(), startSqs()]);
const table = `bench-${randomUUID().slice(0, 8)}`;
const superKey = randomBytes(32).toString('base64url');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: `${redis.url}/2`,
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
  AWS_ENDPOINT_URL_SQS: sqs.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  SUPER_SERVICE_KEY: superKey,
  TOKEN_SECRET: randomBytes(32).toString('base64url'),
  MASTER_KEY: randomBytes(32).toString('base64url'),
  DYNAMODB_TABLE: table,
  SQS_QUEUE_PREFIX: `b${randomUUID().slice(0, 8)}-`,
  TOKENS_PER_SERVICE_PER_MINUTE: '1000000',
  LOG_LEVEL: 'warn',
};
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});
const ddb = new DynamoDBClient({});
await ensureTable(ddb, table);
ddb.destroy();

const [functionsPort, baselinePort] = await Promise.all([freePort(), freePort()]);
const functions = await startProcess(
  'functions',
  [
    'node',
    // --profile DIR: a V8 CPU profile of the functions process, written when it stops.
    ...(arg('profile') ? ['--cpu-prof', `--cpu-prof-dir=${arg('profile')}`] : []),
    '--import',
    'tsx',
    'functions/entry/node.ts',
  ],
  { ...env, PORT: String(functionsPort) },
  /functions listening/,
);
const baseline = await startProcess(
  'baseline',
  ['node', '--import', 'tsx', join(here, 'baseline.ts')],
  { ...process.env, PORT: String(baselinePort) },
  /baseline listening/,
);
const api = `http://127.0.0.1:${functionsPort}`;

// A tenant service (a service key to unseal, as every real caller has) with one room.
const asSuper = { authorization: await bearer('super', superKey), 'content-type': 'application/json' };
const service = (await (
  await fetch(`${api}/v1/services`, {
    method: 'POST',
    headers: asSuper,
    body: JSON.stringify({ name: 'bench' }),
  })
).json()) as { id: string; key: string };
const asTenant = async () => ({
  authorization: await bearer(service.id, service.key),
  'content-type': 'application/json',
});
const room = await fetch(`${api}/v1/rooms`, {
  method: 'POST',
  headers: await asTenant(),
  body: JSON.stringify({ id: 'bench', name: 'bench', options: { views: [] } }),
});
if (room.status !== 201) throw new Error(`room: ${room.status} ${await room.text()}`);

interface Target {
  name: string;
  pid: number | undefined;
  request: () => Promise<{
    url: string;
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: string;
  }>;
  /** Emulators whose CPU is reported apart. */
  emulators: boolean;
}
const targets: Target[] = [
  {
    name: 'token issue',
    pid: functions.pid,
    emulators: true,
    request: async () => ({
      url: `${api}/v1/rooms/bench/tokens`,
      method: 'POST',
      headers: await asTenant(),
      body: JSON.stringify({ user: 'bench-user', role: 'viewer' }),
    }),
  },
  {
    name: 'room read',
    pid: functions.pid,
    emulators: true,
    request: async () => ({ url: `${api}/v1/rooms/bench`, method: 'GET', headers: await asTenant() }),
  },
  {
    name: 'baseline (hono, no stores)',
    pid: baseline.pid,
    emulators: false,
    request: async () => ({ url: `http://127.0.0.1:${baselinePort}/v1/ping`, method: 'GET', headers: {} }),
  },
];

interface Sample {
  rps: number;
  cores: number;
  rpsPerCore: number;
  p50Ms: number;
  p99Ms: number;
  redisCores: number;
  dynamodbCores: number;
  failed: number;
  load: number;
}
// --only NAME: that target alone (with --profile, a profile of one kind of request).
const chosen = targets.filter((t) => !arg('only') || t.name === arg('only'));
const samples = new Map<string, Sample[]>(chosen.map((t) => [t.name, []]));
for (let round = 1; round <= options.rounds; round++) {
  for (const target of chosen) {
    const request = await target.request();
    const before = [cpuSeconds(target.pid), cpuSeconds(redis.pid), cpuSeconds(dynamodb.pid)];
    const started = performance.now();
    const result = await autocannon({
      ...request,
      connections: options.connections,
      duration: options.window,
    });
    const seconds = (performance.now() - started) / 1000;
    const [cpu, redisCpu, dynamodbCpu] = [
      cpuSeconds(target.pid),
      cpuSeconds(redis.pid),
      cpuSeconds(dynamodb.pid),
    ];
    const cores = (cpu - before[0]!) / seconds;
    const sample: Sample = {
      rps: Math.round(result.requests.average),
      cores: Math.round(cores * 100) / 100,
      rpsPerCore: Math.round(result.requests.average / Math.max(cores, 0.01)),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      redisCores: target.emulators ? Math.round(((redisCpu! - before[1]!) / seconds) * 100) / 100 : 0,
      dynamodbCores: target.emulators ? Math.round(((dynamodbCpu! - before[2]!) / seconds) * 100) / 100 : 0,
      failed: result.non2xx + result.errors,
      load: Math.round(loadavg()[0]! * 100) / 100,
    };
    samples.get(target.name)!.push(sample);
    console.log(`[round ${round}] ${target.name}: ${JSON.stringify(sample)}`);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const summary = Object.fromEntries(
  [...samples].map(([name, list]) => [
    name,
    {
      rpsPerCore: median(list.map((s) => s.rpsPerCore)),
      rps: median(list.map((s) => s.rps)),
      cores: median(list.map((s) => s.cores)),
      p50Ms: median(list.map((s) => s.p50Ms)),
      p99Ms: median(list.map((s) => s.p99Ms)),
      redisCores: median(list.map((s) => s.redisCores)),
      dynamodbCores: median(list.map((s) => s.dynamodbCores)),
      failed: list.reduce((n, s) => n + s.failed, 0),
    },
  ]),
);
const base = summary['baseline (hono, no stores)']?.rpsPerCore ?? Number.NaN;
const result = {
  benchmark: 'control-plane',
  date: new Date().toISOString(),
  machine: machine(),
  method:
    'autocannon in the benchmark process against the functions process (Redis, DynamoDB Local, SQS emulator) and a ' +
    'minimal hono app, rounds alternating; each target’s CPU from /proc over its window; medians of the rounds',
  options,
  goal: { rpsPerCore: 2000 },
  summary,
  ratioToBaseline: Object.fromEntries(
    Object.entries(summary).map(([name, s]) => [name, Math.round((s.rpsPerCore / base) * 1000) / 1000]),
  ),
  samples: Object.fromEntries(samples),
};
console.log(JSON.stringify({ summary: result.summary, ratioToBaseline: result.ratioToBaseline }, null, 2));
const out = join(here, '..', 'results', `control-plane-${result.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);

const functionsExited = new Promise((resolve) => functions.once('exit', resolve));
functions.kill('SIGTERM');
baseline.kill('SIGTERM');
await functionsExited; // its CPU profile is written on the way out
await Promise.all([redis.stop(), dynamodb.stop(), sqs.stop()]);
process.exit(0);
