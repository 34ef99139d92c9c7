import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import { browserSuite, expectEveryoneHearsAndSees } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

describe('conference on the local cluster (gateway emulator, functions, media node process, Redis, DynamoDB Local, SQS)', () => {
  const suite = browserSuite(() => startLocalCluster());

  const join = async (page: Page, user: string) =>
    page.evaluate(([u, t, s]) => window.peer.join(u, t, { signalingUrl: s }), [
      suite.target.url,
      await suite.target.token('cluster-room', user),
      suite.target.signalingUrl,
    ] as const);

  it('three participants each publish audio and video and receive the other two', async () => {
    const [a, b, c] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ida = await join(a, 'ana');
    const idb = await join(b, 'ben');
    const idc = await join(c, 'cy');
    await expectEveryoneHearsAndSees([
      { page: a, id: ida.id },
      { page: b, id: idb.id },
      { page: c, id: idc.id },
    ]);
    // Live state is in Redis, visible to the stateless management functions.
    const listed = await fetch(`${suite.target.url}/v1/rooms/cluster-room/participants`, {
      headers: { authorization: await suite.target.superAuth() },
    });
    expect(((await listed.json()) as { user: string }[]).map((p) => p.user).sort()).toEqual([
      'ana',
      'ben',
      'cy',
    ]);
    const streams = await fetch(`${suite.target.url}/v1/rooms/cluster-room/streams`, {
      headers: { authorization: await suite.target.superAuth() },
    });
    expect(await streams.json()).toHaveLength(6);

    await c.context().close();
    const users = await eventually(
      () => a.evaluate(() => window.peer.participants()),
      (u) => !u.includes('cy'),
    );
    expect(users).toEqual(['ben']);

    // The node reports its capacity to Redis every second.
    const redis = new Redis(suite.target.redisUrl);
    const registry = new RedisNodeRegistry(redis);
    const [report] = await registry.fresh(3000);
    expect(report).toMatchObject({ id: 'node-1', rooms: 1, workers: 1, workersAlive: 1, draining: false });
    const nodes = await fetch(`${suite.target.url}/v1/nodes`, {
      headers: { authorization: await suite.target.superAuth() },
    });
    expect(await nodes.json()).toEqual([expect.objectContaining({ id: 'node-1', state: 'ready', rooms: 1 })]);

    // SIGTERM drains: the node says so, keeps serving the live room, and leaves once it empties.
    const node = suite.target.nodes.get('node-1')!;
    const exited = new Promise<number | null>((r) => node.once('exit', (code) => r(code)));
    node.kill('SIGTERM');
    const draining = await eventually(
      () => registry.fresh(3000),
      (r) => r[0]?.draining === true,
    );
    expect(draining[0]?.draining).toBe(true);
    const frames = async () =>
      (await b.evaluate(() => window.peer.received())).find((x) => x.kind === 'video')?.framesDecoded ?? 0;
    const before = await frames();
    expect(await eventually(frames, (f) => f > before + 10)).toBeGreaterThan(before + 10);
    expect(node.exitCode).toBeNull();
    await a.context().close();
    await b.context().close();
    expect(await exited).toBe(0);
    redis.disconnect();
  });
});
