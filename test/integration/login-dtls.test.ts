import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { type EmbeddedServer, startEmbedded } from '../harness/embedded.ts';
import { openSignaling, type SignalingClient } from '../harness/signalingClient.ts';

/** A browser's DTLS parameters as the SDK sends them with its certificate's fingerprint. */
const dtlsParameters = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'A7').join(':') }],
};

interface LoginAnswer {
  participant: { id: string };
  transports: { send?: { id: string }; recv?: { id: string } };
  consumers: { id: string }[];
  dtlsConnected?: boolean;
}

/**
 * A login that carries the client's DTLS parameters (the SDK's one certificate): the node
 * connects the transports it makes and starts the listed consumers, so no transport.connect
 * round trip comes before ICE. The real media node and mediasoup worker of the embedded mode.
 */
describe('login with the DTLS parameters', () => {
  let server: EmbeddedServer;
  let signalingUrl: string;
  let caps: unknown;
  const clients: SignalingClient[] = [];
  const room = 'dtls-at-login';

  const join = async (user: string, params: Record<string, unknown>) => {
    const client = await openSignaling(signalingUrl, await server.token(room, user));
    clients.push(client);
    const answer = await client.request<LoginAnswer>('login', { rtpCapabilities: caps, ...params });
    expect(answer.ok, JSON.stringify(answer.error)).toBe(true);
    return { client, login: answer.data! };
  };
  const peer = (id: string) =>
    server.system.mediaNode.rooms.get(roomKey(server.system.superService.id, room))!.peer(id)!;

  beforeAll(async () => {
    server = await startEmbedded();
    signalingUrl = `${server.url.replace('http', 'ws')}/ws`;
    caps = await (await fetch(`${server.url}/v1/rtp-capabilities`)).json();
    // Something to consume: a VP8 producer (no media need flow for the consumer to exist).
    const { client, login } = await join('publisher', {});
    const published = await client.request('publish', {
      transportId: login.transports.send!.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
        encodings: [{ ssrc: 11111111 }],
      },
    });
    expect(published.ok, JSON.stringify(published.error)).toBe(true);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  it('connects both transports and resumes the consumers at login; a later connect is refused', async () => {
    const { client, login } = await join('early', { dtlsParameters });
    expect(login.dtlsConnected).toBe(true);
    expect(login.consumers).toHaveLength(1);
    const held = peer(login.participant.id);
    for (const t of [login.transports.send!, login.transports.recv!]) {
      // Connected as the client asked: the node is DTLS server to the browser's client.
      expect(held.transports.get(t.id)!.dtlsParameters.role).toBe('server');
    }
    expect(held.consumers.get(login.consumers[0]!.id)!.paused).toBe(false);
    const again = await client.request('transport.connect', {
      transportId: login.transports.recv!.id,
      dtlsParameters,
    });
    expect(again.ok).toBe(false);
  });

  it('without them, the classic way: paused consumers, transports waiting for transport.connect', async () => {
    const { client, login } = await join('classic', {});
    expect(login.dtlsConnected).toBeUndefined();
    const held = peer(login.participant.id);
    const consumer = login.consumers[0]!.id;
    expect(held.consumers.get(consumer)!.paused).toBe(true);
    expect(held.transports.get(login.transports.recv!.id)!.dtlsParameters.role).toBe('auto');
    const connected = await client.request('transport.connect', {
      transportId: login.transports.recv!.id,
      dtlsParameters,
      resume: [consumer],
    });
    expect(connected.ok, JSON.stringify(connected.error)).toBe(true);
    expect(held.consumers.get(consumer)!.paused).toBe(false);
  });

  it('refuses malformed DTLS parameters with a validation error, and the login does nothing', async () => {
    const client = await openSignaling(signalingUrl, await server.token(room, 'malformed'));
    clients.push(client);
    for (const dtls of [
      { role: 'client' },
      { role: 'client', fingerprints: [{ algorithm: 'md5', value: 'AB:CD' }] },
      { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'not hex' }] },
    ]) {
      const answer = await client.request('login', { rtpCapabilities: caps, dtlsParameters: dtls });
      expect(answer.ok).toBe(false);
      expect(answer.error?.code).toBe(1301);
    }
    expect(server.system.mediaNode.rooms.get(roomKey(server.system.superService.id, room))!.peers.size).toBe(
      3,
    );
  });
});
