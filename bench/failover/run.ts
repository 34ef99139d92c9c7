// Failover under a burst: N SDK clients of one room (one publisher, the rest receiving) lose
// their media node to SIGKILL; recorded per run: every rejoin `login` (time since the kill,
// 250 ms histogram, answer or none), errors, each client's detection and rejoin time, and the
// media gap each receiver saw (longest stretch without a decoded frame). See
// test/harness/failoverBurst.ts.
//
// Usage: npm run bench:failover -- [--clients 20] [--runs 3] [--nodes 2]
//          [--scenarios sdk,stall1000-3000,stall1000-1250]
// Scenarios: `sdk`: the SDK finds out by itself (pings and media stall); `stallA-B`: the SDK's
// health checks off, each client told its node is gone at a random moment in [A, B) ms after the
// kill, so it rejoins flagged `failover` (a stand-in for a correct detector: 1000-3000 is the
// timing of main's pings, 2 s apart with a 1 s timeout; 1000-1250 a 1 s media-stall detector).
// The cluster's services are started here, as in bench/ttff cluster mode.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { launchChromium } from '../../test/harness/chromium.ts';
import { startLocalCluster } from '../../test/harness/cluster.ts';
import {
  type BurstResult,
  formatHistogram,
  histogram,
  percentile,
  runFailoverBurst,
  serveBurstPage,
} from '../../test/harness/failoverBurst.ts';
import { arg } from '../args.ts';
import { startClusterStores } from '../clusterStores.ts';

const here = dirname(fileURLToPath(import.meta.url));
const Options = z.object({
  clients: z.coerce.number().int().min(2).max(60).default(20),
  runs: z.coerce.number().int().min(1).max(20).default(3),
  nodes: z.coerce.number().int().min(2).max(4).default(2),
  scenarios: z
    .string()
    .default('sdk,stall1000-3000,stall1000-1250')
    .transform((s) => s.split(','))
    .pipe(z.array(z.string().regex(/^(sdk|stall\d+-\d+)$/)).min(1)),
});
const options = Options.parse({
  clients: arg('clients'),
  runs: arg('runs'),
  nodes: arg('nodes'),
  scenarios: arg('scenarios'),
});

const stores = await startClusterStores();
const cluster = await startLocalCluster(Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`));
const [browser, pages] = await Promise.all([launchChromium(), serveBurstPage()]);

const scenarios: Record<string, { runs: BurstResult[]; loadAverage: number[] }> = {};
let fresh = options.nodes;
for (let run = 0; run < options.runs; run++) {
  // Scenarios interleaved, so a busier minute on the shared machine does not favour one of them.
  for (const scenario of options.scenarios) {
    const stall = /^stall(\d+)-(\d+)$/.exec(scenario);
    const loadBefore = loadavg()[0]!;
    const result = await runFailoverBurst(cluster, browser, pages, {
      room: `burst-${scenario.replace(/\W/g, '-')}-${run}`,
      clients: options.clients,
      pages: 2,
      ...(stall
        ? { detect: { fromMs: Number(stall[1]), spreadMs: Math.max(1, Number(stall[2]) - Number(stall[1])) } }
        : {}),
    });
    scenarios[scenario] ??= { runs: [], loadAverage: [] };
    scenarios[scenario].runs.push(result);
    scenarios[scenario].loadAverage.push(Math.round(loadBefore * 100) / 100);
    console.log(`${scenario} run ${run + 1}: ${JSON.stringify(result.summary)}`);
    // The killed node is replaced by a new one (a new id: the dead one's queue holds stale commands).
    cluster.nodes.delete(result.victim);
    await cluster.addNode(`node-${++fresh}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

const summaries = Object.fromEntries(
  Object.entries(scenarios).map(([name, { runs }]) => {
    const all = <T>(pick: (r: BurstResult) => T[]) => runs.flatMap(pick);
    const gaps = all((r) => r.gapMs);
    const logins = all((r) => r.logins);
    return [
      name,
      {
        runs: runs.length,
        loginsPerRun: logins.length / runs.length,
        unansweredPerRun: logins.filter((l) => l.answeredMs === undefined).length / runs.length,
        failures: all((r) => r.failures).length,
        rejoined: `${runs.reduce((n, r) => n + r.rejoined, 0)}/${runs.reduce((n, r) => n + r.clients, 0)}`,
        detectP50: percentile(
          all((r) => r.detectMs),
          50,
        ),
        rejoinP50: percentile(
          all((r) => r.rejoinMs),
          50,
        ),
        rejoinP95: percentile(
          all((r) => r.rejoinMs),
          95,
        ),
        gapP50: percentile(gaps, 50),
        gapP95: percentile(gaps, 95),
        histogram: histogram(logins.map((l) => l.sentMs)),
      },
    ];
  }),
);

const date = new Date().toISOString();
const report = {
  date,
  commit: execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(),
  clients: options.clients,
  nodes: options.nodes,
  unit: 'ms since the SIGKILL; gap: longest stretch without a decoded frame per receiver',
  summaries,
  scenarios,
};
const out = join(here, '..', 'results', `failover-${date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
for (const [name, s] of Object.entries(summaries)) {
  const { histogram: rows, ...rest } = s;
  console.log(
    `\n${name}: ${JSON.stringify(rest)}\nrejoin logins (all runs) per 250 ms:\n${formatHistogram(rows)}`,
  );
}
console.log(`wrote ${out}`);
await browser.close();
await pages.close();
await cluster.close();
await stores.stop();
process.exit(0);
