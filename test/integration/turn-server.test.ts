import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TurnServer } from '../../media-node/turn/TurnServer.ts';
import type { IceServer } from '../../shared/protocol/signaling.ts';
import { turnCredentials, turnUrlsFor } from '../../shared/turn/credentials.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import { openSignaling } from '../harness/signalingClient.ts';
import { freeUdpPortPair } from '../harness/udp.ts';

const secret = randomBytes(32).toString('base64url');

/** The parts of a STUN message this test reads. */
interface StunAnswer {
  type: number;
  errorCode?: number;
  realm?: string;
  nonce?: string;
}

const ALLOCATE = 0x0003;
const MAGIC = 0x2112a442;
const attribute = (type: number, value: Buffer) => {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
};

/** A TURN Allocate request (RFC 5766), signed with the long-term key when `auth` is given. */
function allocate(auth?: { username: string; password: string; realm: string; nonce: string }): Buffer {
  const transport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP
  let body = attribute(0x0019, transport);
  if (auth)
    body = Buffer.concat([
      body,
      attribute(0x0006, Buffer.from(auth.username)),
      attribute(0x0014, Buffer.from(auth.realm)),
      attribute(0x0015, Buffer.from(auth.nonce)),
    ]);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(ALLOCATE, 0);
  header.writeUInt32BE(MAGIC, 4);
  randomBytes(12).copy(header, 8);
  if (!auth) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // MESSAGE-INTEGRITY covers the message with its length already counting the integrity attribute.
  header.writeUInt16BE(body.length + 24, 2);
  const key = createHash('md5').update(`${auth.username}:${auth.realm}:${auth.password}`).digest();
  const mac = createHmac('sha1', key)
    .update(Buffer.concat([header, body]))
    .digest();
  return Buffer.concat([header, body, attribute(0x0008, mac)]);
}

function parse(message: Buffer): StunAnswer {
  const answer: StunAnswer = { type: message.readUInt16BE(0) };
  for (let at = 20; at + 4 <= message.length; ) {
    const type = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 2);
    const value = message.subarray(at + 4, at + 4 + length);
    if (type === 0x0009) answer.errorCode = value[2]! * 100 + value[3]!;
    if (type === 0x0014) answer.realm = value.toString();
    if (type === 0x0015) answer.nonce = value.toString();
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
  return answer;
}

/** Asks coturn for an allocation with these credentials: the challenge, then the signed request. */
async function tryAllocate(port: number, username: string, password: string): Promise<StunAnswer> {
  const socket = createSocket('udp4');
  const ask = (message: Buffer) =>
    new Promise<StunAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no STUN answer in 2 s')), 2000);
      socket.once('message', (m) => {
        clearTimeout(timer);
        resolve(parse(m));
      });
      socket.send(message, port, '127.0.0.1');
    });
  try {
    const challenge = await ask(allocate());
    expect(challenge.errorCode).toBe(401);
    const signed = (nonce: string) => allocate({ username, password, realm: challenge.realm!, nonce });
    const answer = await ask(signed(challenge.nonce!));
    // 438 (stale nonce): coturn may answer the signed request before it stored the nonce it
    // just gave; a client retries with the nonce of that answer, as browsers do.
    return answer.errorCode === 438 ? await ask(signed(answer.nonce!)) : answer;
  } finally {
    socket.close();
  }
}

describe('TurnServer (coturn) with REST-API credentials', () => {
  let turn: TurnServer;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPortPair();
    const relay = await freeUdpPortPair();
    turn = await TurnServer.start({
      secret,
      listenIp: '127.0.0.1',
      port,
      tlsPort: port + 1,
      relayPorts: { min: relay, max: relay + 1 },
      allowLoopbackPeers: false,
      tls: undefined,
    });
  }, 30_000);
  afterAll(() => turn?.close());

  it('allocates a relay for credentials derived from its secret', async () => {
    const c = turnCredentials({ secret, ttlSeconds: 600, participantId: 'p-ok' });
    const answer = await tryAllocate(port, c.username, c.credential);
    expect(answer.errorCode).toBeUndefined();
    expect(answer.type).toBe(0x0103); // Allocate success response
  });

  it('refuses credentials from another secret, expired ones and a tampered username', async () => {
    const other = turnCredentials({ secret: `${secret}x`, ttlSeconds: 600, participantId: 'p-1' });
    expect((await tryAllocate(port, other.username, other.credential)).errorCode).toBe(401);
    const expired = turnCredentials({
      secret,
      ttlSeconds: 60,
      participantId: 'p-2',
      nowMs: Date.now() - 3_600_000,
    });
    expect((await tryAllocate(port, expired.username, expired.credential)).errorCode).toBe(401);
    const valid = turnCredentials({ secret, ttlSeconds: 600, participantId: 'p-3' });
    expect((await tryAllocate(port, valid.username.replace('p-3', 'p-4'), valid.credential)).errorCode).toBe(
      401,
    );
  });

  it('keeps the secret off its command line and out of its output; close is idempotent and removes its files', async () => {
    expect(readFileSync(`/proc/${turn.pid}/cmdline`, 'utf8')).not.toContain(secret);
    expect(turn.outputTail).not.toContain(secret);
    const dir = turn.outputTail.match(/Certificate file found: (\/\S+)\/cert\.pem/)![1]!;
    expect(existsSync(dir)).toBe(true);
    await Promise.all([turn.close(), turn.close()]);
    await turn.close();
    expect(turn.closed).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the local cluster with TURN: one coturn, whose credentials its media nodes hand out at login', () => {
  let cluster: LocalCluster;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPortPair();
    const relay = await freeUdpPortPair();
    cluster = await startLocalCluster(['turn-node'], {
      REDIS_DB: '9',
      TURN_SECRET: secret,
      TURN_LISTEN_IP: '127.0.0.1',
      TURN_PORT: String(port),
      TURN_TLS_PORT: String(port + 1),
      TURN_RELAY_PORTS: `${relay}-${relay + 1}`,
    });
  }, 60_000);
  afterAll(() => cluster?.close());

  it('answers login with the TURN URLs and credentials coturn accepts', async () => {
    expect(cluster.turnServer).toBeDefined();
    const client = await openSignaling(cluster.signalingUrl, await cluster.token('turn-room', 'ana'));
    try {
      const login = await client.request<{ participant: { id: string }; iceServers?: IceServer[] }>(
        'login',
        {},
      );
      expect(login.ok, JSON.stringify(login.error)).toBe(true);
      const [server, ...more] = login.data!.iceServers ?? [];
      expect(more).toEqual([]);
      expect(server!.urls).toEqual(turnUrlsFor('127.0.0.1', port, port + 1));
      expect(server!.username).toMatch(new RegExp(`^\\d+:${login.data!.participant.id}$`));
      const answer = await tryAllocate(port, server!.username!, server!.credential!);
      expect(answer.errorCode).toBeUndefined();
      expect(answer.type).toBe(0x0103);
    } finally {
      client.close();
    }
  });
});
