// Join-token issue rate with 50,000 tokens outstanding against none (issue #16, goal 3: flat
// within ±10 %), on the embedded server over HTTP: POST /v1/rooms/{room}/tokens with a management
// bearer, 8 requests in flight. One server is filled with OUTSTANDING tokens (they live an hour);
// each round measures a window on a fresh server (no token outstanding) and then one on the full
// server, alternately in this sitting, and the ratio is of their medians. The servers run in
// this process, so each rate includes the client's own cost (the same on both sides).
//
// Usage: npm run bench:tokens -- [--outstanding 50000] [--window 2000] [--rounds 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearer } from '../../test/harness/controlPlane.ts';
import { type EmbeddedServer, startEmbedded } from '../../test/harness/embedded.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
};
const OUTSTANDING = Number(arg('outstanding', '50000'));
const WINDOW = Number(arg('window', '2000'));
const ROUNDS = Number(arg('rounds', '5'));
const IN_FLIGHT = 8;

const server = () =>
  startEmbedded({
    TOKENS_PER_SERVICE_PER_MINUTE: String(10 * (OUTSTANDING + ROUNDS * WINDOW)),
    JOIN_TOKEN_TTL_SECONDS: '3600',
    LOG_LEVEL: 'error',
  });

/** Issues `count` tokens on `target`, IN_FLIGHT at a time; tokens per second. */
async function issue(target: EmbeddedServer, count: number): Promise<number> {
  const { id, key } = target.system.superService;
  await target.token('bench', 'first'); // creates the room
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const n = next++;
        const res = await fetch(`${target.url}/v1/rooms/bench/tokens`, {
          method: 'POST',
          headers: { authorization: await bearer(id, key), 'content-type': 'application/json' },
          body: JSON.stringify({ user: `u${n}`, role: 'viewer' }),
        });
        if (res.status !== 201) throw new Error(`token issue answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  return Math.round((count / (performance.now() - started)) * 1000);
}

const full = await server();
await issue(full, OUTSTANDING);
const empty: number[] = [];
const filled: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const fresh = await server();
  await issue(fresh, 500); // this server's connections and routes warm
  empty.push(await issue(fresh, WINDOW));
  await fresh.close();
  filled.push(await issue(full, WINDOW));
  console.log(
    `round ${round}: ${empty.at(-1)} tokens/s with none outstanding, ${filled.at(-1)} with ${OUTSTANDING}+`,
  );
}
await full.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  date: new Date().toISOString(),
  machine: {
    host: hostname(),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    load: loadavg().map((l) => l.toFixed(2)),
  },
  method: `embedded server over HTTP, POST /v1/rooms/{room}/tokens with a management bearer, ${IN_FLIGHT} in flight; ${ROUNDS} rounds, each a window of ${WINDOW} on a fresh server then one on a server holding ${OUTSTANDING} tokens or more (they live an hour); medians`,
  goal: 'rate flat within ±10 % from 0 to 50,000 outstanding tokens',
  noneOutstanding: { perSecond: empty, median: median(empty) },
  outstanding: { tokens: OUTSTANDING, perSecond: filled, median: median(filled) },
  ratio: Math.round((median(filled) / median(empty)) * 100) / 100,
};
console.log(JSON.stringify(result, null, 2));
const out = join(here, '..', 'results', `tokens-${result.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${out}`);
process.exit(0);
