import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectionsApi } from '../../functions/http/connectionsApi.ts';
import { WebSocketGateway } from '../../functions/http/WebSocketGateway.ts';
import type { SignalingFunction } from '../../functions/signaling/SignalingFunction.ts';
import { websocketHandler } from '../../functions/signaling/websocketHandler.ts';
import { ApiGatewayConnections } from '../../shared/adapters/apigw/ApiGatewayConnections.ts';
import { createLogger } from '../../shared/logger.ts';
import { MessageTooLargeError } from '../../shared/ports/gateway.ts';
import type { ServerMessage } from '../../shared/protocol/signaling.ts';

/** The gateway emulator against API Gateway's semantics, driven by the real AWS SDK client. */
describe('WebSocket gateway emulator', () => {
  let server: Server;
  let sdk: ApiGatewayManagementApiClient;
  let base: string;
  const seen: { route: string; connectionId: string; body?: string }[] = [];

  beforeAll(async () => {
    const gateway = new WebSocketGateway({ path: '/ws', logger: createLogger({ level: 'error' }) });
    // A stand-in signaling function: accepts the token "good", records the events it gets.
    const signaling = {
      connect: async (connectionId: string, token?: string) => {
        seen.push({ route: '$connect', connectionId });
        return token === 'good' ? { ok: true } : { ok: false, status: 401, message: 'refused' };
      },
      message: async (connectionId: string, body: string) => {
        seen.push({ route: '$default', connectionId, body });
      },
      disconnect: async (connectionId: string) => {
        seen.push({ route: '$disconnect', connectionId });
      },
    } as unknown as SignalingFunction;
    const handler = websocketHandler(signaling);
    gateway.route({
      connect: async (id, token) => {
        const r = await handler({
          requestContext: { routeKey: '$connect', connectionId: id },
          queryStringParameters: { token },
        });
        return r.statusCode === 200 ? { ok: true } : { ok: false, status: 401, message: r.body ?? '' };
      },
      message: async (id, body) =>
        void (await handler({ requestContext: { routeKey: '$default', connectionId: id }, body })),
      disconnect: async (id) =>
        void (await handler({ requestContext: { routeKey: '$disconnect', connectionId: id } })),
    });
    server = createServer(connectionsApi(gateway));
    gateway.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    sdk = new ApiGatewayManagementApiClient({ endpoint: `http://${base}`, region: 'us-east-1' });
  });
  afterAll(() => {
    sdk.destroy();
    server.close();
  });

  const open = (token: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${base}/ws?token=${token}`);
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
    });

  it('$connect refusal means no socket, only the HTTP status', async () => {
    await expect(open('bad')).rejects.toThrow('401');
  });

  it('routes messages to $default and posts back through @connections; GetConnection describes', async () => {
    const ws = await open('good');
    const connectionId = seen.filter((e) => e.route === '$connect').at(-1)!.connectionId;
    const received = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('{"hello":1}');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.at(-1)).toEqual({ route: '$default', connectionId, body: '{"hello":1}' });
    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('pushed') }));
    expect(await received).toBe('pushed');
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');

    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect(await closed).toBe(1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.at(-1)).toEqual({ route: '$disconnect', connectionId });
    // A closed connection is gone: the SDK raises its typed GoneException (410).
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(GoneException);
  });

  it("Tessera's poster (signed requests, not the SDK): delivers, false once gone, too large refused", async () => {
    const gateway = new ApiGatewayConnections(`http://${base}`);
    try {
      const ws = await open('good');
      const connectionId = seen.filter((e) => e.route === '$connect').at(-1)!.connectionId;
      const received = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      const message = { event: 'text', data: { from: 'x', to: 'all', message: 'hi' } } as ServerMessage;
      expect(await gateway.post(connectionId, message)).toBe(true);
      expect(JSON.parse(await received)).toEqual(message);
      const huge = {
        event: 'text',
        data: { from: 'x', to: 'all', message: 'y'.repeat(140_000) },
      } as ServerMessage;
      await expect(gateway.post(connectionId, huge)).rejects.toBeInstanceOf(MessageTooLargeError);
      const closed = new Promise((r) => ws.once('close', r));
      await gateway.disconnect(connectionId);
      await closed;
      expect(await gateway.post(connectionId, message)).toBe(false);
    } finally {
      gateway.close();
    }
  });

  it('closes a socket that sends a frame over 128 KiB', async () => {
    const ws = await open('good');
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(129 * 1024));
    expect(await closed).toBe(1009);
  });
});
