import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/chromium.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import { formatHistogram, runFailoverBurst, serveBurstPage } from '../harness/failoverBurst.ts';
import type { PageServer } from '../harness/pageServer.ts';

// Timing goals live in bench/failover; this proves the burst is admitted cleanly and reports figures.
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

  it('every client is back in the room on the other node, no login is refused, receivers decode again', async () => {
    const result = await runFailoverBurst(cluster, browser, pages, {
      room: 'burst-room',
      clients: 20,
      pages: 2,
      flagRejoins: process.env.FAILOVER_FLAG_REJOINS === '1',
    });
    console.log(
      [
        `failover burst (victim ${result.victim}, ${result.clients} clients, rejoin logins flagged: ${result.flagRejoins})`,
        `rejoin logins after the kill, per 250 ms:\n${formatHistogram(result.histogram)}`,
        `publisher: ${JSON.stringify(result.publisher)}; summary: ${JSON.stringify(result.summary)}`,
      ].join('\n'),
    );
    expect(result.clients).toBe(20);
    // Not one login answered with an error: no capacity, limit or placement refusal under the burst.
    expect(result.failures).toEqual([]);
    expect(result.rejoined).toBe(20);
    expect(result.gapMs.filter((g) => !Number.isFinite(g))).toEqual([]);
    expect(result.gapMs).toHaveLength(19);
  }, 150_000);
});
