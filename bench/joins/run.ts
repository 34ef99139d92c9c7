// Joins per core across the local cluster (issue #16, goal 2: ≥ 300 joins/s per core). A join is
// what a client does to enter and leave a room, without media: a join token (REST, as the
// application's back end asks for it), the signaling WebSocket, `login` with the device's RTP
// capabilities (the node places the participant and makes its two transports), `logout`, close.
// Clients run in this process with bounded concurrency over a few rooms; every cluster process's
// CPU (with its children: the mediasoup worker) is read from /proc over the window, the stores'
// emulators apart. The result is joins per second per core the cluster used, so it does not
// depend on how many joins are in flight. Then bursts: `--burst` clients, their sockets open, log
// in to one fresh room at once; the time until every login is answered (a room's commands run
// one after another on its node, so this is what a meeting's start feels like).
//
// Usage: npm run bench:joins -- [--window 15] [--concurrency 16] [--rooms 8] [--rounds 2] [--burst 10] [--profile DIR]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { startLocalCluster } from '../../test/harness/cluster.ts';
import { arg } from '../args.ts';
import { startClusterStores } from '../clusterStores.ts';
import { machine } from '../host.ts';

const here = dirname(fileURLToPath(import.meta.url));
const options = z
  .object({
    window: z.coerce.number().min(2).max(120).default(15),
    concurrency: z.coerce.number().int().min(1).max(256).default(16),
    rooms: z.coerce.number().int().min(1).max(100).default(8),
    rounds: z.coerce.number().int().min(1).max(5).default(2),
    burst: z.coerce.number().int().min(2).max(64).default(10),
  })
  .parse({
    window: arg('window'),
    concurrency: arg('concurrency'),
    rooms: arg('rooms'),
    rounds: arg('rounds'),
    burst: arg('burst'),
  });

/** CPU seconds of a process and all its descendants (every thread), from /proc. */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    total += (Number(f[11]) + Number(f[12])) / 100;
    for (const tid of readdirSync(`/proc/${pid}/task`))
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
        if (child) total += treeCpuSeconds(Number(child));
  } catch {
    // gone meanwhile
  }
  return total;
}

const stores = await startClusterStores();
const { redis, dynamodb } = stores;
const cluster = await startLocalCluster(['node-1'], {
  TOKENS_PER_SERVICE_PER_MINUTE: '1000000',
  LOG_LEVEL: 'warn',
  // --profile DIR: a V8 CPU profile of every cluster process, written as each stops.
  ...(arg('profile')
    ? { NODE_OPTIONS: `--import ${join(here, 'profile.mjs')}`, PROFILE_DIR: arg('profile')! }
    : {}),
});
const rooms = Array.from({ length: options.rooms }, (_, i) => `joins-${i}`);
for (const room of rooms) await cluster.token(room, 'warm-up'); // creates the rooms
const caps = await (await fetch(`${cluster.url}/v1/rtp-capabilities`)).json();

let sequence = 0;
/** A signaling socket of a new participant of `room`, open, with a request helper. */
async function connect(room: string, user: string) {
  const token = await cluster.token(room, user);
  const ws = new WebSocket(`${cluster.signalingUrl}?token=${encodeURIComponent(token)}`);
  const answers = new Map<number, (m: { ok: boolean; error?: unknown }) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { id?: number; ok: boolean };
    if (typeof m.id === 'number') answers.get(m.id)?.(m);
  });
  const request = (id: number, method: string, params: object) =>
    new Promise<void>((resolve, reject) => {
      answers.set(id, (m) => (m.ok ? resolve() : reject(new Error(`${method}: ${JSON.stringify(m.error)}`))));
      ws.send(JSON.stringify({ id, method, params }));
    });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, request };
}

/** One client's join and leave; resolves with its duration (ms). */
async function joinAndLeave(): Promise<number> {
  const started = performance.now();
  const n = sequence++;
  const { ws, request } = await connect(rooms[n % rooms.length]!, `user-${n}`);
  try {
    await request(1, 'login', { rtpCapabilities: caps });
    await request(2, 'logout', {});
  } finally {
    ws.close();
  }
  return performance.now() - started;
}

interface Sample {
  joins: number;
  failed: number;
  joinsPerSecond: number;
  clusterCores: number;
  joinsPerSecondPerCore: number;
  byProcess: Record<string, number>;
  emulatorCores: { redis: number; dynamodb: number };
  p50Ms: number;
  p95Ms: number;
  load: number;
}

const processes = [
  ...cluster.controlPlane,
  ...[...cluster.nodes].map(([name, child]) => ({ name: `${name} (with its workers)`, pid: child.pid! })),
];
// The SQS emulator runs in this process (with the clients): not counted.
const emulators = { redis: redis.pid, dynamodb: dynamodb.pid };

async function measureWindow(): Promise<Sample> {
  const before = processes.map((p) => treeCpuSeconds(p.pid));
  const emulatorsBefore = Object.values(emulators).map((pid) => (pid ? treeCpuSeconds(pid) : 0));
  const durations: number[] = [];
  let failed = 0;
  const started = performance.now();
  const deadline = started + options.window * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          durations.push(await joinAndLeave());
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = processes.map((p, i) => (treeCpuSeconds(p.pid) - before[i]!) / seconds);
  const emulatorCores = Object.values(emulators).map((pid, i) =>
    pid ? Math.round(((treeCpuSeconds(pid) - emulatorsBefore[i]!) / seconds) * 100) / 100 : 0,
  );
  const cores = used.reduce((a, b) => a + b, 0);
  const sorted = durations.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  return {
    joins: durations.length,
    failed,
    joinsPerSecond: Math.round(durations.length / seconds),
    clusterCores: Math.round(cores * 100) / 100,
    joinsPerSecondPerCore: Math.round(durations.length / seconds / Math.max(cores, 0.01)),
    byProcess: Object.fromEntries(processes.map((p, i) => [p.name, Math.round(used[i]! * 100) / 100])),
    emulatorCores: { redis: emulatorCores[0]!, dynamodb: emulatorCores[1]! },
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    load: Math.round(loadavg()[0]! * 100) / 100,
  };
}

await measureWindow(); // warm-up: code paths compiled, connections pooled
const samples: Sample[] = [];
for (let round = 1; round <= options.rounds; round++) {
  const sample = await measureWindow();
  samples.push(sample);
  console.log(`[round ${round}] ${JSON.stringify(sample)}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `options.burst` open sockets log in to one new room at once: ms until the last answer. */
async function burst(round: number): Promise<number> {
  const room = `burst-${round}`;
  const clients = await Promise.all(
    Array.from({ length: options.burst }, (_, i) => connect(room, `burst-${round}-${i}`)),
  );
  const started = performance.now();
  await Promise.all(clients.map((c) => c.request(1, 'login', { rtpCapabilities: caps })));
  const ms = performance.now() - started;
  for (const c of clients) c.ws.close();
  return Math.round(ms);
}
await burst(0); // warm-up
const bursts: number[] = [];
for (let round = 1; round <= 5; round++) bursts.push(await burst(round));
console.log(`[bursts] ${options.burst} logins into one room, all answered after ${bursts.join(', ')} ms`);
const result = {
  benchmark: 'joins',
  date: new Date().toISOString(),
  machine: machine(),
  method:
    'token (REST) + signaling WebSocket + login (placement, two transports on the node) + logout + close, ' +
    'clients in the benchmark process with bounded concurrency; CPU of the cluster processes and their ' +
    'children from /proc over the window, Redis and DynamoDB Local apart (the SQS emulator runs with the clients, uncounted); medians of the rounds',
  options,
  goal: { joinsPerSecondPerCore: 300 },
  summary: {
    joinsPerSecondPerCore: median(samples.map((s) => s.joinsPerSecondPerCore)),
    joinsPerSecond: median(samples.map((s) => s.joinsPerSecond)),
    clusterCores: median(samples.map((s) => s.clusterCores)),
    cpuMsPerJoin:
      Math.round(median(samples.map((s) => (s.clusterCores / Math.max(s.joinsPerSecond, 1)) * 1000)) * 10) /
      10,
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p95Ms: median(samples.map((s) => s.p95Ms)),
    failed: samples.reduce((n, s) => n + s.failed, 0),
  },
  samples,
  burst: { logins: options.burst, allAnsweredMs: bursts, medianMs: median(bursts) },
};
console.log(JSON.stringify(result.summary, null, 2));
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'results',
  `joins-${result.date.slice(0, 10)}.json`,
);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);
await cluster.close();
await stores.stop();
process.exit(0);
