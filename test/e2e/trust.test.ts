import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, roomBody } from '../harness/controlPlane.ts';
import { type EmbeddedServer, eventually, startEmbedded } from '../harness/embedded.ts';
import {
  openSignaling,
  RefusedUpgrade,
  rawRequest,
  type SignalingClient,
  upgradeRequest,
} from '../harness/signalingClient.ts';

// What a hostile user tried against the embedded server, and what must hold now.
describe('trust on the embedded server', () => {
  let server: EmbeddedServer;
  let port: number;
  let signalingUrl: string;

  beforeAll(async () => {
    server = await startEmbedded();
    port = Number(new URL(server.url).port);
    signalingUrl = `${server.url.replace('http', 'ws')}/ws`;
  });
  afterAll(() => server?.close());

  const call = async (method: string, path: string, auth: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const superAuth = () => bearer(server.system.superService.id, server.system.superService.key);
  const newService = async (name: string) => {
    const created = await call('POST', '/v1/services', await superAuth(), { name });
    expect(created.status).toBe(201);
    const { id, key } = created.body as { id: string; key: string };
    return { id, auth: () => bearer(id, key) };
  };
  const newRoom = async (auth: string, id: string) => {
    const created = await call('POST', '/v1/rooms', auth, roomBody(id));
    expect(created.status).toBe(201);
  };
  const tokenFor = async (auth: string, room: string, user: string, role = 'presenter') => {
    const issued = await call('POST', `/v1/rooms/${room}/tokens`, auth, { user, role });
    expect(issued.status).toBe(201);
    return issued.body.token as string;
  };
  const join = async (token: string) => {
    const client = await openSignaling(signalingUrl, token);
    const login = await client.request<{
      participant: { id: string; permission: unknown };
      transports: object;
    }>('login');
    expect(login.ok).toBe(true);
    return { client, login: login.data! };
  };
  const refusal = (token: string) =>
    openSignaling(signalingUrl, token).then(
      (c: SignalingClient) => {
        c.close();
        return 101;
      },
      (error: unknown) => (error instanceof RefusedUpgrade ? error.status : -1),
    );

  it('answers 400 to upgrade targets that URL parsing rejects, and keeps serving everyone', async () => {
    for (const target of ['//[/ws', 'http://%zz/ws', 'http://[::1/ws?token=x']) {
      expect(await rawRequest(port, upgradeRequest(target))).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(await rawRequest(port, upgradeRequest('/elsewhere'))).toMatch(/^HTTP\/1\.1 404 /);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const { client } = await join(await server.token('after-bad-upgrades', 'ana'));
    client.close();
  });

  it('a deleted room disconnects its participants; its id, reused, has no ghost and takes no stale token', async () => {
    const [a, b] = [await newService('tenant-a'), await newService('tenant-b')];
    await newRoom(await a.auth(), 'contested');
    const stale = await tokenFor(await a.auth(), 'contested', 'later');
    const { client: ghost } = await join(await tokenFor(await a.auth(), 'contested', 'ghost'));

    expect((await call('DELETE', '/v1/rooms/contested', await a.auth())).status).toBe(204);
    await ghost.closed;
    expect(ghost.events.map((e) => e.event)).toContain('drop');

    await newRoom(await b.auth(), 'contested');
    expect(await refusal(stale)).toBe(404);
    expect((await call('GET', '/v1/rooms/contested/participants', await b.auth())).body).toEqual([]);
    // The same service deleting and creating a room again makes a new room: old tokens are void.
    await newRoom(await a.auth(), 'reborn');
    const old = await tokenFor(await a.auth(), 'reborn', 'old');
    expect((await call('DELETE', '/v1/rooms/reborn', await a.auth())).status).toBe(204);
    await newRoom(await a.auth(), 'reborn');
    expect(await refusal(old)).toBe(404);
    // Another service's room is answered exactly like a missing one.
    const foreign = await call('GET', '/v1/rooms/contested', await a.auth());
    const missing = await call('GET', '/v1/rooms/never-was', await a.auth());
    expect([foreign.status, foreign.body.error.code]).toEqual([missing.status, missing.body.error.code]);
  });

  it('a socket that had not logged in when its room was deleted cannot log in to the room made again', async () => {
    const auth = await superAuth();
    await newRoom(auth, 'lurked');
    const lurker = await openSignaling(signalingUrl, await tokenFor(auth, 'lurked', 'lurker'));
    expect((await call('DELETE', '/v1/rooms/lurked', auth)).status).toBe(204);
    await newRoom(auth, 'lurked');
    const { client: member } = await join(await tokenFor(auth, 'lurked', 'member'));
    const login = await lurker.request('login');
    expect([login.ok, login.error?.code]).toEqual([false, 1003]);
    await lurker.closed;
    expect(
      ((await call('GET', '/v1/rooms/lurked/participants', auth)).body as { user: string }[]).map(
        (p) => p.user,
      ),
    ).toEqual(['member']);
    expect(member.events.filter((e) => e.event === 'participant')).toEqual([]);
    member.close();
  });

  it('two services each have a room of the same id, live at once, and never see into each other', async () => {
    const [a, b] = [await newService('same-id-a'), await newService('same-id-b')];
    await newRoom(await a.auth(), 'standup');
    await newRoom(await b.auth(), 'standup');
    const { client: ana } = await join(await tokenFor(await a.auth(), 'standup', 'ana'));
    const { client: bob } = await join(await tokenFor(await b.auth(), 'standup', 'bob'));
    const users = async (auth: string) =>
      ((await call('GET', '/v1/rooms/standup/participants', auth)).body as { user: string }[]).map(
        (p) => p.user,
      );
    expect(await users(await a.auth())).toEqual(['ana']);
    expect(await users(await b.auth())).toEqual(['bob']);
    // Deleting one closes that room only.
    expect((await call('DELETE', '/v1/rooms/standup', await a.auth())).status).toBe(204);
    await ana.closed;
    expect((await bob.request('ping')).ok).toBe(true);
    expect(await users(await b.auth())).toEqual(['bob']);
    expect(bob.events.filter((e) => e.event === 'participant')).toEqual([]);
    bob.close();
  });

  it('a login takes the live permissions: publishing revoked over REST stays revoked after logging in again', async () => {
    const auth = await superAuth();
    await newRoom(auth, 'revoke');
    const { client, login } = await join(await tokenFor(auth, 'revoke', 'ana'));
    expect(login.transports).toHaveProperty('send');
    const send = (login.transports as { send: { id: string } }).send.id;
    const data = await client.request('data.publish', {
      transportId: send,
      sctpStreamParameters: { streamId: 1, ordered: true },
      label: 'chat',
    });
    expect(data.ok).toBe(true);
    const peer = () =>
      server.system.mediaNode.rooms.get(roomKey('super', 'revoke'))!.peer(login.participant.id)!;
    expect(peer().dataProducers.size).toBe(1);
    const patched = await call('PATCH', `/v1/rooms/revoke/participants/${login.participant.id}`, auth, [
      { op: 'replace', path: '/permission/publish', value: false },
    ]);
    expect(patched.status).toBe(200);
    // What the revoked permission no longer allows stops at once, data channels included.
    expect(
      await eventually(
        async () => peer().dataProducers.size,
        (n) => n === 0,
        5000,
      ),
    ).toBe(0);
    const again = await client.request<{
      participant: { permission: { publish: unknown } };
      transports: object;
    }>('login');
    expect(again.ok).toBe(true);
    expect(again.data!.participant.permission.publish).toBe(false);
    expect(again.data!.transports).not.toHaveProperty('send');
    client.close();
  });

  it('deleting a service deletes its rooms and disconnects their participants', async () => {
    const doomed = await newService('doomed');
    await newRoom(await doomed.auth(), 'doomed-room');
    const { client } = await join(await tokenFor(await doomed.auth(), 'doomed-room', 'ana'));
    expect((await call('DELETE', `/v1/services/${doomed.id}`, await superAuth())).status).toBe(204);
    await client.closed;
    expect(server.system.mediaNode.rooms.rooms.has(roomKey(doomed.id, 'doomed-room'))).toBe(false);
    await expect(
      server.system.deps.api.rooms.owned({ serviceId: doomed.id, isSuper: false }, 'doomed-room'),
    ).rejects.toMatchObject({ code: 1003 });
  });

  it('a flood of frames is throttled by the signaling function with a clear code, and the socket keeps working', async () => {
    const { client } = await join(await server.token('flooded', 'noisy'));
    const answers: { error?: { code: number } }[] = [];
    client.ws.on('message', (raw) => answers.push(JSON.parse(String(raw))));
    for (let i = 0; i < 400; i++) client.ws.send('not json');
    await eventually(
      async () => answers.length,
      (n) => n >= 400,
      5000,
    );
    const codes = answers.map((a) => a.error?.code);
    expect(codes).toContain(1303);
    expect(codes).toContain(1301);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.request('ping')).ok).toBe(true);
    client.close();
  });

  it('an upgrade abandoned mid-handshake leaves no participant behind', async () => {
    const auth = await superAuth();
    await newRoom(auth, 'abandoned');
    const tokens = await Promise.all(
      Array.from({ length: 21 }, (_, i) => tokenFor(auth, 'abandoned', `u${i}`)),
    );
    // All at once, each gone at another point of the server's $connect → handshake path: at
    // once, half-closed, a tick later, or a few ms later.
    tokens.forEach((token, i) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(upgradeRequest(`/ws?token=${encodeURIComponent(token)}`));
        if (i % 4 === 0) socket.destroy();
        else if (i % 4 === 1) socket.end();
        else if (i % 4 === 2) setImmediate(() => socket.destroy());
        else setTimeout(() => socket.destroy(), i % 7);
      });
      socket.on('error', () => {});
    });
    // Let the server take them all in (it admits each at $connect), then nobody may be left.
    await new Promise((r) => setTimeout(r, 1000));
    const left = await eventually(
      async () => (await call('GET', '/v1/rooms/abandoned/participants', auth)).body as unknown[],
      (list) => list.length === 0,
      5000,
    );
    expect(left).toEqual([]);
  });
});

describe('half-open sockets', () => {
  it('a socket that stops answering pings is closed and its participant leaves', async () => {
    const server = await startEmbedded({ WS_PING_INTERVAL_SECONDS: '1' });
    const port = Number(new URL(server.url).port);
    try {
      const token = await server.token('silent', 'mute');
      // A client whose network vanished: the handshake completes, then nothing ever comes back.
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(upgradeRequest(`/ws?token=${encodeURIComponent(token)}`)),
      );
      socket.on('error', () => {});
      const answered = await new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
      expect(answered).toMatch(/^HTTP\/1\.1 101 /);
      const auth = await bearer(server.system.superService.id, server.system.superService.key);
      const list = () =>
        fetch(`${server.url}/v1/rooms/silent/participants`, { headers: { authorization: auth } }).then(
          (r) => r.json() as Promise<unknown[]>,
        );
      expect(await list()).toHaveLength(1);
      const closed = new Promise((r) => socket.once('close', r));
      await closed;
      expect(await eventually(list, (l) => l.length === 0, 5000)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('the demo join endpoint', () => {
  it('is off unless enabled', async () => {
    const server = await startEmbedded();
    try {
      const res = await fetch(`${server.url}/demo/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room: 'r', user: 'u' }),
      });
      expect(res.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('when enabled, hands out tokens only for rooms it opened, under the API body rules', async () => {
    const server = await startEmbedded({ DEMO_JOIN: 'on' });
    try {
      const post = (body: string, type = 'application/json') =>
        fetch(`${server.url}/demo/join`, { method: 'POST', headers: { 'content-type': type }, body });
      const joined = await post(JSON.stringify({ room: 'demo-one', user: 'ana' }));
      expect(joined.status).toBe(201);
      expect(await joined.json()).toHaveProperty('token');
      expect((await post(JSON.stringify({ room: 'demo-one', user: 'ben' }))).status).toBe(201);
      await server.token('an-application-room', 'owner');
      const foreign = await post(JSON.stringify({ room: 'an-application-room', user: 'eve' }));
      expect([foreign.status, (await foreign.json()).error.code]).toEqual([403, 1102]);
      expect((await post(JSON.stringify({ room: 'x', user: 'y'.repeat(70_000) }))).status).toBe(413);
      expect((await post('room=x', 'text/plain')).status).toBe(415);
      // Chunked (no content-length): counted as it streams in.
      const chunked = (body: string) =>
        fetch(`${server.url}/demo/join`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: new Blob([body]).stream(),
          duplex: 'half',
        } as RequestInit);
      expect((await chunked(JSON.stringify({ room: 'x', user: 'y'.repeat(70_000) }))).status).toBe(413);
      expect((await chunked(JSON.stringify({ room: 'demo-one', user: 'cy' }))).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});
