// Join-token issue rate against the number of tokens outstanding (issue #16, goal 3: flat within
// ±10 % from 0 to 50,000), on the embedded server over HTTP: POST /v1/rooms/{room}/tokens with a
// management bearer, 8 requests in flight. The rate is measured in windows of WINDOW tokens at
// each mark while the ledger fills (the median of three); the ratio is each window's rate to the first one's, in this
// sitting. The server runs in this process, so the rate includes the client's own cost (the same
// in every window).
//
// Usage: npm run bench:tokens -- [--outstanding 50000] [--window 2000]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearer } from '../../test/harness/controlPlane.ts';
import { startEmbedded } from '../../test/harness/embedded.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
};
const OUTSTANDING = Number(arg('outstanding', '50000'));
const WINDOW = Number(arg('window', '2000'));
const IN_FLIGHT = 8;

const server = await startEmbedded({
  TOKENS_PER_SERVICE_PER_MINUTE: String(10 * OUTSTANDING),
  JOIN_TOKEN_TTL_SECONDS: '3600',
  LOG_LEVEL: 'error',
});
const { id, key } = server.system.superService;
await server.token('bench', 'warm-up');

let issued = 0;
/** Issues `count` tokens, IN_FLIGHT at a time; tokens per second. */
async function issue(count: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        next++;
        const res = await fetch(`${server.url}/v1/rooms/bench/tokens`, {
          method: 'POST',
          headers: { authorization: await bearer(id, key), 'content-type': 'application/json' },
          body: JSON.stringify({ user: `u${issued}`, role: 'viewer' }),
        });
        if (res.status !== 201) throw new Error(`token issue answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        issued++;
      }
    }),
  );
  return Math.round((count / (performance.now() - started)) * 1000);
}

await issue(WINDOW); // warm-up: JIT, connections
const marks = [0, 10_000, 20_000, 30_000, 40_000, OUTSTANDING].filter((m) => m <= OUTSTANDING);
const windows: { outstanding: number; perSecond: number }[] = [];
for (const mark of marks) {
  const fill = mark - (issued - 1 - WINDOW);
  if (fill > 0) await issue(fill);
  // The median of three windows: one window alone moved ±20 % with garbage collection.
  const outstanding = issued - 1 - WINDOW;
  const rates = [await issue(WINDOW), await issue(WINDOW), await issue(WINDOW)].sort((a, b) => a - b);
  windows.push({ outstanding, perSecond: rates[1]! });
  console.log(`${windows.at(-1)!.outstanding} outstanding: ${windows.at(-1)!.perSecond} tokens/s`);
}
await server.close();

const first = windows[0]!.perSecond;
const result = {
  date: new Date().toISOString(),
  machine: {
    host: hostname(),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    load: loadavg().map((l) => l.toFixed(2)),
  },
  method: `embedded server over HTTP, POST /v1/rooms/{room}/tokens with a management bearer, ${IN_FLIGHT} in flight, the median of 3 windows of ${WINDOW} at each mark; tokens live an hour, so none expires during the run`,
  goal: 'rate flat within ±10 % from 0 to 50,000 outstanding tokens',
  windows: windows.map((w) => ({ ...w, ratioToFirst: Math.round((w.perSecond / first) * 100) / 100 })),
  worstRatio: Math.round((Math.min(...windows.map((w) => w.perSecond)) / first) * 100) / 100,
};
console.table(result.windows);
const out = join(here, '..', 'results', `tokens-${result.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${out}`);
process.exit(0);
