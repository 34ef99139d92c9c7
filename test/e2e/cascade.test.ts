import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisRoomNodes } from '../../shared/adapters/redis/RedisRoomNodes.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, expectEveryoneHearsAndSees } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

describe('a room across two media nodes (PipeTransports between node processes)', () => {
  // Two participants of a room per node: the third and fourth spill onto the second node.
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { ROOM_PEERS_PER_NODE: '2', REDIS_DB: '2' }),
  );

  const join = async (page: Page, user: string) =>
    page.evaluate(([u, t, s]) => window.peer.join(u, t, { signalingUrl: s }), [
      suite.target.url,
      await suite.target.token('span-room', user),
      suite.target.signalingUrl,
    ] as const);

  it('four participants split over two nodes all receive each other; the pipes show in /v1/nodes', async () => {
    const pages = await Promise.all(Array.from({ length: 4 }, () => openPeer(suite.browser, suite.pages)));
    const ids: { id: string }[] = [];
    for (const [i, page] of pages.entries()) ids.push(await join(page, ['ana', 'ben', 'cy', 'dee'][i]!));

    const redis = new Redis(suite.target.redisUrl);
    const counts = await new RedisRoomNodes(redis).counts(roomKey('super', 'span-room'));
    expect(Object.values(counts).sort()).toEqual([2, 2]);

    await expectEveryoneHearsAndSees(pages.map((page, i) => ({ page, id: ids[i]!.id })));
    expect((await pages[3]!.evaluate(() => window.peer.participants())).sort()).toEqual(['ana', 'ben', 'cy']);

    const nodes = await eventually(
      async () =>
        (await (
          await fetch(`${suite.target.url}/v1/nodes`, {
            headers: { authorization: await suite.target.superAuth() },
          })
        ).json()) as { id: string; pipes: number }[],
      (n) => n.length === 2 && n.every((x) => x.pipes > 0),
    );
    expect(nodes.map((n) => n.pipes > 0)).toEqual([true, true]);

    // A text crosses nodes: dee (second node) writes to everyone; each of the others gets it once.
    await pages[3]!.evaluate(() => window.peer.sendText('hello both nodes'));
    const line = `${ids[3]!.id}:hello both nodes`;
    for (const page of pages.slice(0, 3)) {
      const texts = await eventually(
        () => page.evaluate(() => window.peer.texts()),
        (t) => t.includes(line),
      );
      expect(texts.filter((t) => t === line)).toEqual([line]);
    }

    // Leaving on one node removes the participant and its streams on the other.
    await pages[0]!.context().close();
    const users = await eventually(
      () => pages[3]!.evaluate(() => window.peer.participants()),
      (u) => !u.includes('ana'),
    );
    expect(users.sort()).toEqual(['ben', 'cy']);
    const streams = await eventually(
      () => pages[3]!.evaluate(() => window.peer.streams()),
      (s) => !s.some((x) => x.startsWith(ids[0]!.id)),
    );
    expect(streams.filter((x) => x.startsWith(ids[0]!.id))).toEqual([]);
    for (const page of pages.slice(1)) await page.context().close();
    redis.disconnect();
  });
});
