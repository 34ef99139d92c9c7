import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, expectEveryoneReceivesNow, expectRejoined } from '../harness/browserSuite.ts';
import { joinCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

describe('drain: a media node gets SIGTERM', () => {
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { DRAIN_TIMEOUT_SECONDS: '4', REDIS_DB: '4' }),
  );

  const join = (page: Page, room: string, user: string) => joinCluster(page, suite.target, room, user);

  it('takes no new rooms, keeps its rooms working until the drain timeout, then they move; no state is lost', async () => {
    const redis = new Redis(suite.target.redisUrl);
    const placement = new RedisPlacementStore(redis);
    const [ana, ben, cy] = await Promise.all(
      Array.from({ length: 3 }, () => openPeer(suite.browser, suite.pages)),
    );
    const participants = [
      { page: ana!, id: (await join(ana!, 'drain-room', 'ana')).id },
      { page: ben!, id: (await join(ben!, 'drain-room', 'ben')).id },
    ];
    await expectEveryoneReceivesNow(participants);
    const draining = (await placement.get(roomKey('super', 'drain-room')))!;
    const other = draining === 'node-1' ? 'node-2' : 'node-1';

    const node = suite.target.nodes.get(draining)!;
    const exited = new Promise<number | null>((r) => node.once('exit', (code) => r(code)));
    node.kill('SIGTERM');
    const registry = new RedisNodeRegistry(redis);
    await eventually(
      () => registry.fresh(3000),
      (r) => r.find((n) => n.id === draining)?.draining === true,
    );

    // No new rooms on the draining node; its own room keeps working meanwhile.
    await join(cy!, 'new-room', 'cy');
    expect(await placement.get(roomKey('super', 'new-room'))).toBe(other);
    await expectEveryoneReceivesNow(participants, 3000);

    // At the drain timeout the room moves: both rejoin on the other node by themselves.
    await expectRejoined(participants.map((p) => p.page));
    await expectEveryoneReceivesNow(participants);
    expect(await placement.get(roomKey('super', 'drain-room'))).toBe(other);
    expect(await exited).toBe(0);

    // Nothing lost: the room (DynamoDB) and its participants, same ids (Redis), are all still there.
    const auth = { headers: { authorization: await suite.target.superAuth() } };
    expect((await fetch(`${suite.target.url}/v1/rooms/drain-room`, auth)).status).toBe(200);
    const listed = (await (
      await fetch(`${suite.target.url}/v1/rooms/drain-room/participants`, auth)
    ).json()) as { id: string }[];
    expect(listed.map((p) => p.id).sort()).toEqual(participants.map((p) => p.id).sort());
    for (const page of [ana!, ben!, cy!]) await page.context().close();
    redis.disconnect();
  });
});
