import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import {
  browserSuite,
  expectEveryoneHearsAndSees,
  expectEveryoneReceivesNow,
  expectRejoined,
} from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { openPeer } from '../harness/embedded.ts';

describe('failover: a media node is killed (SIGKILL)', () => {
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { ROOM_PEERS_PER_NODE: '2', REDIS_DB: '3' }),
  );

  const join = async (page: Page, user: string, autoSubscribe = true) =>
    page.evaluate(([u, t, s, a]) => window.peer.join(u, t, { signalingUrl: s, autoSubscribe: a }), [
      suite.target.url,
      await suite.target.token('failover-room', user),
      suite.target.signalingUrl,
      autoSubscribe,
    ] as const);

  /** Video frames decoded so far at `page` from `owner`'s streams (old and new ones summed). */
  const framesFrom = async (page: Page, owner: string) =>
    (await page.evaluate(() => window.peer.received()))
      .filter((s) => s.owner === owner && s.kind === 'video')
      .reduce((n, s) => n + s.framesDecoded, 0);

  it('both participants of the killed node resume sending and receiving on the other node, without a reload', async () => {
    const pages = await Promise.all(Array.from({ length: 4 }, () => openPeer(suite.browser, suite.pages)));
    const ids: { id: string }[] = [];
    for (const [i, page] of pages.entries())
      ids.push(await join(page, ['ana', 'ben', 'cy', 'dee'][i]!, i < 3));
    // Dee chooses what to receive (autoSubscribe off): everyone's tracks, one subscribe each. The
    // rejoin on the other node must subscribe to them again as it does for autoSubscribe's.
    const dee = pages[3]!;
    const chosen = (await dee.evaluate(() => window.peer.publications())).flatMap((p) =>
      p.tracks.map((t) => t.id),
    );
    expect(chosen).toHaveLength(6);
    for (const id of chosen) expect(await dee.evaluate((s) => window.peer.subscribe(s), id)).toBe('');
    const participants = pages.map((page, i) => ({ page, id: ids[i]!.id }));
    await expectEveryoneHearsAndSees(participants);

    // The room's first node holds ana and ben; the other holds cy and dee: kill that one.
    const redis = new Redis(suite.target.redisUrl);
    const primary = await new RedisPlacementStore(redis).get(roomKey('super', 'failover-room'));
    const victim = primary === 'node-1' ? 'node-2' : 'node-1';
    const ana = pages[0]!;
    const cy = ids[2]!.id;

    // Watch, from a survivor, the video of a participant on the killed node: the media gap.
    let lastIncrease = Date.now();
    let longestGap = 0;
    let previous = await framesFrom(ana, cy);
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await new Promise((r) => setTimeout(r, 100));
        const now = await framesFrom(ana, cy).catch(() => previous);
        if (now !== previous) {
          longestGap = Math.max(longestGap, Date.now() - lastIncrease);
          lastIncrease = Date.now();
        }
        previous = now;
      }
    })();

    suite.target.nodes.get(victim)!.kill('SIGKILL');
    await expectRejoined(pages.slice(2));
    // Dee receives what she chose again: ana's and ben's streams, which outlived the node. Cy's
    // ended with it (he publishes anew, under new ids: hers to choose, as any new stream).
    const deeId = ids[3]!.id;
    await expectEveryoneReceivesNow(
      participants,
      20_000,
      (receiver, sender) => !(receiver === deeId && sender === cy),
    );
    const cyNow = await dee.evaluate(
      (owner) => window.peer.publications().filter((p) => p.owner === owner),
      cy,
    );
    expect(cyNow.flatMap((p) => p.tracks.map((t) => t.id)).some((id) => chosen.includes(id))).toBe(false);
    await new Promise((r) => setTimeout(r, 1000));
    watching = false;
    await watcher;
    console.log(`failover media gap seen by a survivor: ${longestGap} ms`);
    expect(longestGap).toBeGreaterThan(0);
    for (const page of pages) await page.context().close();
    redis.disconnect();
  });
});
