import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisRoomNodes } from '../../shared/adapters/redis/RedisRoomNodes.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, hearsAndSees } from '../harness/browserSuite.ts';
import { joinCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * REST commands on a room spread over two media node processes reach a participant of the
 * second node (not the room's placement): each would go unnoticed by that participant if
 * commands reached only the room's first node.
 */
describe('REST commands by target on a room spanning two media nodes', () => {
  // One participant of a room per node: the first joiner places the room, the second spills over.
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], {
      ROOM_PEERS_PER_NODE: '1',
      REDIS_DB: '13',
      // Empty rooms stay: a node lets a room go at once only when told to close it.
      ROOM_EMPTY_GRACE_SECONDS: '600',
    }),
  );

  const rest = async (method: string, path: string, body?: unknown) =>
    fetch(`${suite.target.url}${path}`, {
      method,
      headers: {
        authorization: await suite.target.superAuth(),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  /** Two participants of `room`: the first on the room's node, the second on the other one. */
  async function spread(room: string) {
    const [first, second] = [
      await openPeer(suite.browser, suite.pages),
      await openPeer(suite.browser, suite.pages),
    ];
    const a = await joinCluster(first, suite.target, room, 'ana');
    const b = await joinCluster(second, suite.target, room, 'ben');
    const redis = new Redis(suite.target.redisUrl);
    const counts = await new RedisRoomNodes(redis).counts(roomKey('super', room));
    redis.disconnect();
    expect(Object.values(counts)).toEqual([1, 1]);
    // Media flows both ways across the nodes before any command.
    for (const [page, other] of [
      [first, b.id],
      [second, a.id],
    ] as const) {
      const received = await eventually(
        () => page.evaluate(() => window.peer.received()),
        (s) => hearsAndSees(s, [other]),
        40_000,
      );
      expect(hearsAndSees(received, [other]), JSON.stringify(received)).toBe(true);
    }
    return { ana: { page: first, ...a }, ben: { page: second, ...b } };
  }

  /** Frames of `owner`'s video decoded by `page` so far. */
  const frames = (page: Page, owner: string) =>
    page.evaluate((o) => window.peer.progress().then((p) => p[`${o}:video`] ?? 0), owner);
  /** Frames decoded over a window (ms). */
  const advance = async (page: Page, owner: string, ms: number) => {
    const before = await frames(page, owner);
    await sleep(ms);
    return (await frames(page, owner)) - before;
  };

  it('pause, permission revoke and drop take effect on the participant of the second node', async () => {
    const { ana, ben } = await spread('targets');

    // Stream pause: the others' frames of ben's video stop advancing, then advance again.
    const status = (value: string) =>
      rest('PATCH', `/v1/rooms/targets/streams/${ben.published.video}`, [
        { op: 'replace', path: '/media/video/status', value },
      ]);
    expect((await status('inactive')).status).toBe(200);
    const stalled = await eventually(
      () => advance(ana.page, ben.id, 1500),
      (n) => n === 0,
      20_000,
    );
    expect(stalled, 'ana kept decoding ben’s paused video').toBe(0);
    expect((await status('active')).status).toBe(200);
    const resumed = await eventually(
      () => advance(ana.page, ben.id, 1000),
      (n) => n > 0,
      20_000,
    );
    expect(resumed, 'ben’s video did not come back to ana').toBeGreaterThan(0);

    // Permission revoke: ben may no longer publish video; its video goes, its audio stays.
    const revoked = await rest('PATCH', `/v1/rooms/targets/participants/${ben.id}`, [
      { op: 'replace', path: '/permission/publish/video', value: false },
    ]);
    expect(revoked.status).toBe(200);
    const streams = await eventually(
      () => ana.page.evaluate(() => window.peer.streams()),
      (s) => !s.includes(`${ben.id}:video`),
    );
    expect(streams).toEqual([`${ben.id}:audio`]);
    expect(await ana.page.evaluate(() => window.peer.events())).toContain(`removed:${ben.published.video}`);
    const listed = await eventually(
      async () =>
        ((await (await rest('GET', '/v1/rooms/targets/streams')).json()) as { id: string }[]).map(
          (s) => s.id,
        ),
      (ids) => !ids.includes(ben.published.video),
    );
    expect(listed).not.toContain(ben.published.video);
    expect(listed).toContain(ben.published.audio);

    // Drop: ben's SDK is told and ends; ana sees it leave; the participant list no longer has it.
    expect((await rest('DELETE', `/v1/rooms/targets/participants/${ben.id}`)).status).toBe(204);
    const benEvents = await eventually(
      () => ben.page.evaluate(() => window.peer.events()),
      (e) => e.some((x) => x.startsWith('dropped:')),
    );
    expect(benEvents).toContain('dropped:dropped by the room owner');
    expect(
      await eventually(
        () => ben.page.evaluate(() => window.peer.connectionState()),
        (s) => s === 'disconnected',
      ),
    ).toBe('disconnected');
    const anaEvents = await eventually(
      () => ana.page.evaluate(() => window.peer.events()),
      (e) => e.includes('leave:ben'),
    );
    expect(anaEvents).toContain('leave:ben');
    expect(await ana.page.evaluate(() => window.peer.participants())).toEqual([]);
    const people = (await (await rest('GET', '/v1/rooms/targets/participants')).json()) as { user: string }[];
    expect(people.map((p) => p.user)).toEqual(['ana']);

    await Promise.all([ana.page.context().close(), ben.page.context().close()]);
  }, 180_000);

  it("deleting the room drops and disconnects the second node's participant; both nodes let the room go", async () => {
    const { ana, ben } = await spread('doomed');
    const roomsByNode = async () =>
      Object.fromEntries(
        ((await (await rest('GET', '/v1/nodes')).json()) as { id: string; rooms: number }[]).map((n) => [
          n.id,
          n.rooms,
        ]),
      ) as Record<string, number>;
    // Media has flowed for seconds: each node's report (every second) counts this room.
    const before = await roomsByNode();
    expect(Object.keys(before).sort()).toEqual(['node-1', 'node-2']);
    expect((await rest('DELETE', '/v1/rooms/doomed')).status).toBe(204);
    for (const { page } of [ana, ben]) {
      const events = await eventually(
        () => page.evaluate(() => window.peer.events()),
        (e) => e.some((x) => x.startsWith('dropped:')),
      );
      expect(events).toContain('dropped:room deleted');
      expect(
        await eventually(
          () => page.evaluate(() => window.peer.connectionState()),
          (s) => s === 'disconnected',
        ),
      ).toBe('disconnected');
    }
    // Each node closed its part at once: an empty room would otherwise stay for the (long) grace period.
    const after = await eventually(
      roomsByNode,
      (r) => r['node-1'] === before['node-1']! - 1 && r['node-2'] === before['node-2']! - 1,
      10_000,
    );
    expect(after).toEqual({ 'node-1': before['node-1']! - 1, 'node-2': before['node-2']! - 1 });
    expect((await rest('GET', '/v1/rooms/doomed/participants')).status).toBe(404);
    await Promise.all([ana.page.context().close(), ben.page.context().close()]);
  }, 180_000);
});
