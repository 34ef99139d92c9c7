import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketGateway } from '../../functions/http/WebSocketGateway.ts';
import type { Peer } from '../../media-node/sfu/Peer.ts';
import type { Room } from '../../media-node/sfu/Room.ts';
import type { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { NodeSignaling } from '../../media-node/signaling/NodeSignaling.ts';
import { page, snapshot } from '../../media-node/signaling/paging.ts';
import { ApiGatewayConnections } from '../../shared/adapters/apigw/ApiGatewayConnections.ts';
import { createLogger } from '../../shared/logger.ts';
import { type ConnectionGateway, MessageTooLargeError } from '../../shared/ports/gateway.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import {
  LOGIN_BUDGET,
  MAX_MESSAGE_BYTES,
  methodParams,
  type ServerMessage,
  type StreamAnnouncement,
} from '../../shared/protocol/signaling.ts';

const stream = (n: number): StreamAnnouncement => ({
  id: `stream-${String(n).padStart(4, '0')}`,
  owner: `owner-${n % 10}`,
  kind: n % 2 ? 'audio' : 'video',
  source: n % 2 ? 'mic' : 'camera',
  paused: false,
});

/** A room's lists, as paging sees them. */
function fakeRoom(streams: StreamAnnouncement[]) {
  const room = {
    streams: () => streams,
    participants: () => [...new Set(streams.map((s) => s.owner))].map((id) => ({ id, user: id, role: 'p' })),
  };
  return room as unknown as Room;
}

describe('signaling lists in pages (media-node/signaling/paging.ts)', () => {
  it('walks the snapshot taken at login within the byte budget: churn between pages neither skips nor repeats', () => {
    const streams = Array.from({ length: 1000 }, (_, n) => stream(n));
    const room = fakeRoom(streams);
    const peer = {} as Peer;
    snapshot(room, peer);
    const seen: string[] = [];
    let cursor: string | undefined = '0';
    let pages = 0;
    while (cursor !== undefined) {
      const next: { items: StreamAnnouncement[]; cursor?: string } = page(
        room,
        peer,
        'streams',
        Number(cursor),
        16 * 1024,
      );
      expect(Buffer.byteLength(JSON.stringify(next.items))).toBeLessThanOrEqual(16 * 1024);
      seen.push(...next.items.map((s) => s.id));
      cursor = next.cursor;
      if (pages++ === 1) {
        // Between pages: one stream not yet listed goes, one already listed goes, one arrives.
        streams.splice(900, 1);
        streams.splice(0, 1);
        streams.push(stream(5000));
      }
    }
    expect(pages).toBeGreaterThan(5);
    const expected = Array.from({ length: 1000 }, (_, n) => stream(n).id).filter(
      (id) => id !== 'stream-0900',
    );
    expect(seen).toEqual(expected);
  });

  it('lists everything in one page when it fits, and always advances', () => {
    const room = fakeRoom([stream(1), stream(2)]);
    const peer = {} as Peer;
    snapshot(room, peer);
    expect(page(room, peer, 'streams', 0, 64 * 1024)).toEqual({ items: [stream(1), stream(2)] });
    expect(page(room, peer, 'streams', 0, 1)).toEqual({ items: [stream(1)], cursor: '1' });
    expect(page(room, peer, 'participants', 0, 64 * 1024).items.map((p) => p.id)).toEqual([
      'owner-1',
      'owner-2',
    ]);
  });

  it("login's consumers fit transport.connect's resume list", () => {
    const ids = Array.from({ length: LOGIN_BUDGET.maxConsumers }, (_, n) => `c${n}`);
    const connect = {
      transportId: 't',
      dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    };
    expect(methodParams['transport.connect'].safeParse({ ...connect, resume: ids }).success).toBe(true);
  });
});

const big: ServerMessage = {
  event: 'text',
  data: { from: 'x', to: 'all', message: 'x'.repeat(MAX_MESSAGE_BYTES) },
};

describe('posts over the gateway frame limit', () => {
  it('the embedded gateway refuses them as API Gateway does', async () => {
    const gateway = new WebSocketGateway({ path: '/ws', logger: createLogger({ level: 'error' }) });
    await expect(gateway.post('anyone', big)).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(await gateway.post('anyone', { event: 'drop', data: { reason: 'x' } })).toBe(false);
    gateway.close();
  });

  describe('ApiGatewayConnections tells gone (410), too large (413) and other failures apart', () => {
    let server: Server;
    let connections: ApiGatewayConnections;
    beforeAll(async () => {
      process.env.AWS_REGION ??= 'us-east-1';
      process.env.AWS_ACCESS_KEY_ID ??= 'local';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
      const answers: Record<string, [number, string]> = {
        gone: [410, 'GoneException'],
        big: [413, 'PayloadTooLargeException'],
        denied: [403, 'ForbiddenException'],
      };
      server = createServer((req, res) => {
        req.resume();
        const [status, type] = answers[req.url!.split('/').pop()!] ?? [200, ''];
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
        res.end(status === 200 ? '' : JSON.stringify({ message: type }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      connections = new ApiGatewayConnections(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
    afterAll(() => {
      connections.close();
      server.close();
    });

    it('maps each status', async () => {
      const small: ServerMessage = { event: 'drop', data: { reason: 'x' } };
      expect(await connections.post('ok', small)).toBe(true);
      expect(await connections.post('gone', small)).toBe(false);
      await expect(connections.post('big', small)).rejects.toBeInstanceOf(MessageTooLargeError);
      const denied = await connections.post('denied', small).catch((e: Error) => e);
      expect(denied).toBeInstanceOf(Error);
      expect(denied).not.toBeInstanceOf(MessageTooLargeError);
    });
  });

  it('the media node answers a request whose answer the gateway refuses with an error, and logs both failures', async () => {
    const posted: ServerMessage[] = [];
    let refuse: Error | undefined;
    const gateway: ConnectionGateway = {
      async post(_, message) {
        posted.push(message);
        const error = refuse;
        refuse = undefined;
        if (error) throw error;
        return true;
      },
      async disconnect() {},
    };
    const logged: string[] = [];
    const peer = { connectionId: 'c1' };
    const rooms = { get: () => ({ peer: () => peer }), on: () => {} } as unknown as RoomRegistry;
    const signaling = new NodeSignaling(
      rooms,
      gateway,
      createLogger({ level: 'warn', write: (l) => logged.push(l) }),
      { messagesPerSecond: 50, textsPerSecond: 5, loginsPerParticipantPerMinute: 30 },
    );
    const command = {
      type: 'signal',
      roomId: 'r',
      connectionId: 'c1',
      participant: { id: 'p', user: 'u', role: 'presenter', permission: {} },
      request: { id: 7, method: 'ping', params: {} },
    } as unknown as Extract<NodeCommand, { type: 'signal' }>;

    refuse = new MessageTooLargeError(200_000);
    await signaling.handle(command);
    expect(posted).toEqual([
      { id: 7, ok: true, data: {} },
      { id: 7, ok: false, error: { code: 2001, message: 'answer too large' } },
    ]);
    expect(logged.join('\n')).toMatch(/signaling answer too large.*200000/);

    posted.length = 0;
    refuse = new Error('network down');
    await signaling.handle(command);
    expect(posted).toHaveLength(1);
    expect(logged.join('\n')).toMatch(/signaling answer not delivered.*network down/);
  });
});
