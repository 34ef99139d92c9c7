import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually } from '../harness/embedded.ts';
import {
  openSignaling,
  RefusedUpgrade,
  rawRequest,
  type SignalingClient,
  upgradeRequest,
} from '../harness/signalingClient.ts';

// The local cluster: gateway emulator, functions and a media node process over Redis,
// DynamoDB Local and SQS. What must hold when many functions race over shared state.
describe('trust on the local cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startLocalCluster(['node-1'], { REDIS_DB: '4' });
  }, 90_000);
  afterAll(() => cluster?.close());

  const gatewayPort = () => Number(new URL(cluster.signalingUrl).port);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cluster.url}${path}`, {
      method,
      headers: {
        authorization: await cluster.superAuth(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const token = async (room: string, user: string) =>
    (await call('POST', `/v1/rooms/${room}/tokens`, { user, role: 'presenter' })).body.token as string;
  const tryJoin = (t: string) =>
    openSignaling(cluster.signalingUrl, t).then(
      (client) => ({ client }),
      (error: unknown) => ({ status: error instanceof RefusedUpgrade ? error.status : -1 }),
    );

  it('30 simultaneous joins against a participant limit of 3 admit exactly 3; refused tokens stay usable', async () => {
    expect(
      (
        await call('POST', '/v1/rooms', {
          id: 'three-seats',
          name: 'three',
          options: { participantLimit: 3 },
        })
      ).status,
    ).toBe(201);
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => token('three-seats', `u${i}`)));
    const attempts = await Promise.all(tokens.map(tryJoin));
    const admitted = attempts.flatMap((a) => ('client' in a ? [a.client] : []));
    expect(admitted).toHaveLength(3);
    expect(attempts.filter((a) => 'status' in a && a.status === 403)).toHaveLength(27);
    expect((await call('GET', '/v1/rooms/three-seats/participants')).body).toHaveLength(3);

    // A refused join gave its token back: once a seat is free, it works.
    admitted[0]!.close();
    await eventually(
      async () => (await call('GET', '/v1/rooms/three-seats/participants')).body.length,
      (n) => n === 2,
    );
    const refusedToken = tokens[attempts.findIndex((a) => 'status' in a)]!;
    const late = await tryJoin(refusedToken);
    expect(late).toHaveProperty('client');
    for (const c of [...admitted.slice(1), (late as { client: SignalingClient }).client]) c.close();
  });

  it('the gateway answers 400 to upgrade targets URL parsing rejects, and keeps serving', async () => {
    for (const target of ['//[/ws', 'http://%zz/ws']) {
      expect(await rawRequest(gatewayPort(), upgradeRequest(target))).toMatch(/^HTTP\/1\.1 400 /);
    }
    await call('POST', '/v1/rooms', { id: 'after-bad', name: 'after' });
    const { client } = (await tryJoin(await token('after-bad', 'ana'))) as { client: SignalingClient };
    expect((await client.request('login')).ok).toBe(true);
    client.close();
  });

  it('the @connections API is not reachable on the clients’ port', async () => {
    const onClientPort = await fetch(
      `http://127.0.0.1:${gatewayPort()}/@connections/${encodeURIComponent('any')}`,
      { method: 'POST', body: '{"event":"drop","data":{"reason":"spoofed"}}' },
    );
    expect(onClientPort.status).toBe(404);
    const onManagementPort = await fetch(`${cluster.managementUrl}/@connections/nobody`, { method: 'GET' });
    expect(onManagementPort.status).toBe(410);
  });

  it('deleting a room disconnects its participants on the media node, and a stale socket cannot log in', async () => {
    await call('POST', '/v1/rooms', { id: 'short-lived', name: 'short' });
    const { client } = (await tryJoin(await token('short-lived', 'ana'))) as { client: SignalingClient };
    expect((await client.request('login')).ok).toBe(true);
    expect((await call('DELETE', '/v1/rooms/short-lived')).status).toBe(204);
    expect(await client.closed).toBeGreaterThan(0);
    expect((await call('GET', '/v1/rooms/short-lived/participants')).status).toBe(404);
  });
});

describe('trust on a room spanning two media nodes', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startLocalCluster(['node-a', 'node-b'], { REDIS_DB: '5', ROOM_PEERS_PER_NODE: '1' });
  }, 90_000);
  afterAll(() => cluster?.close());

  it('REST reaches a participant on any node of the room: dropping the one on the second node disconnects it', async () => {
    const auth = await cluster.superAuth();
    const post = (path: string, body: unknown) =>
      fetch(`${cluster.url}${path}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ token: string }>);
    await post('/v1/rooms', { id: 'spread', name: 'spread' });
    const clients: SignalingClient[] = [];
    for (const user of ['ana', 'ben']) {
      const client = await openSignaling(
        cluster.signalingUrl,
        (await post('/v1/rooms/spread/tokens', { user, role: 'presenter' })).token,
      );
      const login = await client.request<{ participant: { id: string } }>('login');
      expect(login.ok).toBe(true);
      clients.push(client);
    }
    // One participant per node: the room spans both (nodes report every second).
    const hosting = await eventually(
      async () =>
        (
          (await fetch(`${cluster.url}/v1/nodes`, { headers: { authorization: auth } }).then((r) =>
            r.json(),
          )) as { id: string; rooms: number }[]
        )
          .filter((n) => n.rooms > 0)
          .map((n) => n.id)
          .sort(),
      (ids) => ids.length === 2,
      10_000,
    );
    expect(hosting).toEqual(['node-a', 'node-b']);
    const list = (await fetch(`${cluster.url}/v1/rooms/spread/participants`, {
      headers: { authorization: auth },
    }).then((r) => r.json())) as { id: string; user: string }[];
    for (const [i, user] of ['ana', 'ben'].entries()) {
      const id = list.find((p) => p.user === user)!.id;
      const dropped = await fetch(`${cluster.url}/v1/rooms/spread/participants/${id}`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
      expect(dropped.status).toBe(204);
      expect(await clients[i]!.closed).toBeGreaterThan(0);
      expect(clients[i]!.events.map((e) => e.event)).toContain('drop');
    }
  });
});
