import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserSuite, hearsAndSees } from '../harness/browserSuite.ts';
import { joinCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

// Session resume through the real path: the API Gateway emulator running the signaling Lambda
// handler, tickets in Redis, commands over SQS, the participants on two media node processes.
describe('sessions resume on the local cluster (a room across two nodes)', () => {
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { ROOM_PEERS_PER_NODE: '1', REDIS_DB: '6' }),
  );
  const redis = () => new Redis(suite.target.redisUrl);
  let client: Redis | undefined;
  afterAll(() => client?.disconnect());

  const join = (page: Page, room: string, user: string) => joinCluster(page, suite.target, room, user);

  const listed = async (room: string) => {
    const res = await fetch(`${suite.target.url}/v1/rooms/${room}/participants`, {
      headers: { authorization: await suite.target.superAuth() },
    });
    return ((await res.json()) as { user: string }[]).map((p) => p.user).sort();
  };

  /** The gateway connection ids of a participant (its connection records in Redis). */
  const connectionsOf = async (participantId: string) => {
    client ??= redis();
    const ids: string[] = [];
    for (const key of await client.keys('tessera:conn:*')) {
      const record = JSON.parse((await client.get(key)) ?? '{}') as {
        connectionId?: string;
        participant?: { id: string };
      };
      if (record.participant?.id === participantId && record.connectionId) ids.push(record.connectionId);
    }
    return ids;
  };

  it('a connection closed by the gateway (@connections DELETE) resumes on the second node: nobody sees it leave, media keeps flowing', async () => {
    const room = 'resume-span';
    const [anaPage, benPage] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ana = await join(anaPage, room, 'ana');
    const ben = await join(benPage, room, 'ben');
    for (const [page, other] of [
      [anaPage, ben.id],
      [benPage, ana.id],
    ] as const) {
      const got = await eventually(
        () => page.evaluate(() => window.peer.received()),
        (r) => hearsAndSees(r, [other]),
      );
      expect(hearsAndSees(got, [other])).toBe(true);
    }
    const [before] = await connectionsOf(ben.id);
    expect(before).toBeDefined();
    const framesBefore = await anaPage.evaluate(() => window.peer.progress());
    const deleted = await fetch(`${suite.target.managementUrl}/@connections/${before}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const listings: string[][] = [];
    const states = await eventually(
      async () => {
        listings.push(await listed(room));
        return benPage.evaluate(() => window.peer.states());
      },
      (s) => s.some((x) => x.state === 'resumed'),
      15_000,
    );
    expect(states.map((s) => s.state)).toEqual(['reconnecting', 'resumed']);
    const lost = states[0]!.at;
    console.log(`[resume-cluster] resumed in ${Math.round(states[1]!.at - lost)} ms`);
    // A new connection for the same participant, the old record gone.
    const after = await eventually(
      () => connectionsOf(ben.id),
      (ids) => ids.length === 1 && ids[0] !== before,
    );
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(listings.every((users) => users.join() === 'ana,ben')).toBe(true);
    expect(await anaPage.evaluate(() => window.peer.events())).toEqual(['join:ben']);
    // Media kept flowing across nodes: ana's frames from ben advanced while ben was away.
    const framesAfter = await anaPage.evaluate(() => window.peer.progress());
    expect(framesAfter[`${ben.id}:video`]!).toBeGreaterThan(framesBefore[`${ben.id}:video`]!);
    // And signaling works again: ben (node 2) unpublishes its audio, and ana (node 1) sees it go.
    const { audio } = await benPage.evaluate(() => window.peer.publishedIds());
    await benPage.evaluate(() => window.peer.unpublish('audio'));
    const events = await eventually(
      () => anaPage.evaluate(() => window.peer.events()),
      (e) => e.includes(`removed:${audio}`),
    );
    expect(events).toContain(`removed:${audio}`);

    // A goodbye ends the session at once, for REST too.
    await benPage.evaluate(() => window.peer.leave());
    expect(
      await eventually(
        () => listed(room),
        (u) => u.join() === 'ana',
      ),
    ).toEqual(['ana']);
    await anaPage.context().close();
    await benPage.context().close();
  });
});
