// Placement benchmark: 1,000 simulated media nodes report into a real redis-server; 100,000 rooms
// are placed by RoomPlacer (read; lock and re-read; choose; fenced write that unlocks). Reports the
// decision latency p50/p99 and the placer's Redis commands per decision (each one round trip, the
// registry snapshot read included; the nodes report from their own process), sequentially
// and with 32 in flight.
//
// Usage: npm run bench:placement -- [--nodes 1000] [--rooms 100000] [--strategy least-used]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RoomPlacer } from '../../functions/signaling/RoomPlacer.ts';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import type { Strategy } from '../../shared/placement/placement.ts';
import { startRedis } from '../../test/harness/redis.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
};
const NODES = Number(arg('nodes', '1000'));
const ROOMS = Number(arg('rooms', '100000'));
const STRATEGY = arg('strategy', 'least-used') as Strategy;

const server = await startRedis();
// The placer's own connection, its commands counted (ioredis sends each command it is given).
const placerRedis = new Redis(server.url);
let placerCommands = 0;
const send = placerRedis.sendCommand.bind(placerRedis);
placerRedis.sendCommand = ((...a: Parameters<typeof send>) => {
  placerCommands++;
  return send(...a);
}) as typeof send;
const placerRegistry = new RedisNodeRegistry(placerRedis);
const placement = new RedisPlacementStore(placerRedis);

// The nodes report every second, as real ones do, from their own process.
const reporter = spawn(
  process.execPath,
  ['--import', 'tsx', join(here, 'reporter.ts'), server.url, String(NODES)],
  {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  },
);
await new Promise<void>((resolve, reject) => {
  reporter.stdout!.once('data', () => resolve());
  reporter.once('exit', (code) => reject(new Error(`the reporter exited (${code})`)));
});

const pct = (xs: number[], p: number) =>
  Math.round(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! * 1000) / 1000;

async function run(label: string, inFlight: number, rooms: number) {
  const placer = new RoomPlacer({ placement, registry: placerRegistry, strategy: STRATEGY });
  const latencies: number[] = [];
  const before = placerCommands;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < rooms) {
        const i = next++;
        const t0 = performance.now();
        await placer.place(`${label}-room-${i}`, { region: ['eu', 'us', 'ap'][i % 3] });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const ops = placerCommands - before;
  latencies.sort((a, b) => a - b);
  return {
    label,
    inFlight,
    decisions: rooms,
    p50ms: pct(latencies, 50),
    p99ms: pct(latencies, 99),
    decisionsPerSecond: Math.round(rooms / seconds),
    redisRoundTripsPerDecision: Math.round((ops / rooms) * 100) / 100,
    load: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const results = [await run('sequential', 1, ROOMS), await run('concurrent', 32, ROOMS)];
console.table(results);
const goals = { p99SequentialMs: 2, roundTripsPerDecision: 5 };
const machine = { host: hostname(), cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
const report = {
  date: new Date().toISOString(),
  machine,
  nodes: NODES,
  rooms: ROOMS,
  strategy: STRATEGY,
  goals,
  results,
};
const out = join(here, '..', 'results', `placement-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
reporter.kill();
placerRedis.disconnect();
await server.stop();
process.exit(0);
