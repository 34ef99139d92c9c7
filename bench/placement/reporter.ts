// The placement bench's simulated media nodes: every second, NODES reports into the registry, from
// their own process (as real nodes do) so that their cost does not land on the placer's event loop.
// Usage: tsx bench/placement/reporter.ts <redis-url> <nodes>; prints "ready" after the first round.
import { Redis } from 'ioredis';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';

const [url, count] = process.argv.slice(2);
const redis = new Redis(url!);
const registry = new RedisNodeRegistry(redis);
const NODES = Number(count);

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

await reportAll();
console.log('ready');
setInterval(() => void reportAll(), 1000);
process.on('disconnect', () => process.exit(0));
