import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/chromium.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import {
  type BurstResult,
  firstAttempts,
  formatHistogram,
  runFailoverBurst,
  serveBurstPage,
} from '../harness/failoverBurst.ts';
import type { PageServer } from '../harness/pageServer.ts';

// Timing goals live in bench/failover (npm run bench:failover); this proves the burst is admitted
// cleanly and prints the figures. Three nodes: each test kills the node hosting its room.
describe('failover burst: 20 clients of one room lose their media node at once (SIGKILL)', () => {
  let cluster: LocalCluster;
  let pages: PageServer;
  let browser: Browser;
  beforeAll(async () => {
    [cluster, pages, browser] = await Promise.all([
      startLocalCluster(['node-1', 'node-2', 'node-3'], { REDIS_DB: '9' }),
      serveBurstPage(),
      launchChromium(),
    ]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await cluster?.close();
  });

  const print = (result: BurstResult) =>
    console.log(
      [
        `failover burst (victim ${result.victim}, ${result.clients} clients, rejoin logins flagged: ${result.flagRejoins})`,
        `rejoin logins after the kill, per 250 ms:\n${formatHistogram(result.histogram)}`,
        `publisher: ${JSON.stringify(result.publisher)}; summary: ${JSON.stringify(result.summary)}`,
      ].join('\n'),
    );

  const expectEveryoneBack = (result: BurstResult) => {
    expect(result.clients).toBe(20);
    // Not one login answered with an error: no capacity, limit or placement refusal under the burst.
    expect(result.failures).toEqual([]);
    expect(result.rejoined).toBe(20);
    expect(result.gapMs).toHaveLength(19);
    expect(result.gapMs.filter((g) => !Number.isFinite(g))).toEqual([]);
    // The attempts do not all land in one instant (lock-step); with the SDK's backoff they spread further.
    expect(result.histogram.filter((b) => b.count > 0).length).toBeGreaterThan(1);
  };

  it('with the SDK as it is: every client is back on another node, no login refused, receivers decode again', async () => {
    const result = await runFailoverBurst(cluster, browser, pages, {
      room: 'burst-sdk',
      clients: 20,
      pages: 2,
      flagRejoins: false,
    });
    print(result);
    expectEveryoneBack(result);
  }, 120_000);

  it('rejoins flagged `failover` (as the SDK will send them) are moved on their first attempt', async () => {
    const result = await runFailoverBurst(cluster, browser, pages, {
      room: 'burst-flagged',
      clients: 20,
      pages: 2,
      flagRejoins: true,
    });
    print(result);
    expectEveryoneBack(result);
    // None went to the dead node to time out there: each client's first attempt was answered, ok.
    const first = firstAttempts(result.logins);
    expect(first).toHaveLength(20);
    expect(first.filter((l) => l.ok !== true)).toEqual([]);
  }, 120_000);
});
