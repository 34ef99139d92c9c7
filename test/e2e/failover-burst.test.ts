import { mkdirSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/chromium.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import {
  firstAttempts,
  formatHistogram,
  runFailoverBurst,
  serveBurstPage,
} from '../harness/failoverBurst.ts';
import type { PageServer } from '../harness/pageServer.ts';

// Timing goals live in bench/failover (npm run bench:failover); this proves the burst is admitted
// cleanly and prints the figures.
describe('failover burst: 20 clients of one room lose their media node at once (SIGKILL)', () => {
  let cluster: LocalCluster;
  let pages: PageServer;
  let browser: Browser;
  beforeAll(async () => {
    [cluster, pages, browser] = await Promise.all([
      startLocalCluster(['node-1', 'node-2'], { REDIS_DB: '9' }),
      serveBurstPage(),
      launchChromium(),
    ]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await cluster?.close();
  });

  it('every client is back on another node, no login refused, flagged rejoins moved at once, receivers decode again', async () => {
    const result = await runFailoverBurst(cluster, browser, pages, {
      room: 'burst-room',
      clients: 20,
      pages: 2,
    });
    // Everything recorded, for when an assertion below fails.
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/failover-burst.json', JSON.stringify(result, null, 1));
    console.log(
      [
        `failover burst (victim ${result.victim}, ${result.clients} clients)`,
        `rejoin logins after the kill, per 250 ms:\n${formatHistogram(result.histogram)}`,
        `publisher: ${JSON.stringify(result.publisher)}; summary: ${JSON.stringify(result.summary)}`,
      ].join('\n'),
    );
    expect(result.clients).toBe(20);
    // Not one login answered with an error: no capacity, limit or placement refusal under the burst.
    expect(result.failures).toEqual([]);
    expect(result.rejoined, JSON.stringify(result.states, null, 1)).toBe(20);
    expect(result.gapMs).toHaveLength(19);
    expect(result.gapMs.filter((g) => !Number.isFinite(g))).toEqual([]);
    // A rejoin the SDK flags `failover` is moved at once: never sent to the dead node to time out
    // there, it is answered, ok, at the first attempt. (Main's SDK flags it only when it judges
    // the media stalled too; the others resume on a new socket, unflagged, see the report.)
    const first = firstAttempts(result.logins);
    expect(first).toHaveLength(20);
    expect(first.filter((l) => l.failover && l.ok !== true)).toEqual([]);
    console.log(`first attempts flagged failover: ${first.filter((l) => l.failover).length}/20`);
    // Not lock-step: the attempts land in more than one 250 ms bucket (backoff with jitter).
    expect(result.histogram.filter((b) => b.count > 0).length).toBeGreaterThan(1);
  }, 120_000);
});
