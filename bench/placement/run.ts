// Placement benchmark: 1,000 simulated media nodes report into a real redis-server; 100,000 rooms
// are placed by RoomPlacer (lock, re-read, choose, fenced write, unlock). Reports the decision
// latency p50/p99 and the Redis commands per decision, sequentially and with 32 in flight.
//
// Usage: npm run bench:placement -- [--nodes 1000] [--rooms 100000] [--strategy least-used]
import { mkdirSync, writeFileSync } from 'node:fs';
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
const redis = new Redis(server.url);
const registry = new RedisNodeRegistry(redis);
const placement = new RedisPlacementStore(redis);

async function reportAll(): Promise<void> {
  const now = Date.now();
  await Promise.all(
    Array.from({ length: NODES }, (_, i) =>
      registry.report({
        id: `node-${String(i).padStart(4, '0')}`,
        rooms: i % 50,
        workers: 8,
        workersAlive: 8,
        load: ((i * 37) % 100) / 100, // a spread of loads; ~15 % are over the 0.85 limit
        draining: i % 97 === 0,
        reportedAt: now,
        region: ['eu', 'us', 'ap'][i % 3],
        capabilities: ['sfu'],
      }),
    ),
  );
}

const commands = async () => Number((await redis.info('stats')).match(/total_commands_processed:(\d+)/)![1]);
const pct = (xs: number[], p: number) =>
  Math.round(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! * 1000) / 1000;

async function run(label: string, inFlight: number, rooms: number) {
  await reportAll();
  const placer = new RoomPlacer({ placement, registry, strategy: STRATEGY });
  const latencies: number[] = [];
  const before = await commands();
  const started = performance.now();
  let next = 0;
  let lastReport = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < rooms) {
        const i = next++;
        if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          await reportAll(); // the nodes keep reporting every second, as real ones do
        }
        const t0 = performance.now();
        await placer.place(`${label}-room-${i}`, { region: ['eu', 'us', 'ap'][i % 3] });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const ops = (await commands()) - before;
  latencies.sort((a, b) => a - b);
  return {
    label,
    inFlight,
    decisions: rooms,
    p50ms: pct(latencies, 50),
    p99ms: pct(latencies, 99),
    decisionsPerSecond: Math.round(rooms / seconds),
    // Includes the nodes' own reports (NODES writes a second), which a real cluster also carries.
    redisCommandsPerDecision: Math.round((ops / rooms) * 100) / 100,
  };
}

const results = [await run('sequential', 1, ROOMS), await run('concurrent', 32, ROOMS)];
console.table(results);
const report = { date: new Date().toISOString(), nodes: NODES, rooms: ROOMS, strategy: STRATEGY, results };
const out = join(here, '..', 'results', `placement-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
redis.disconnect();
await server.stop();
process.exit(0);
