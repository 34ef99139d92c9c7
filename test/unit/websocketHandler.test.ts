import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SignalingFunction } from '../../functions/signaling/SignalingFunction.ts';
import { type WebSocketEvent, websocketHandler } from '../../functions/signaling/websocketHandler.ts';

const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/apigw-websocket-events.json', import.meta.url), 'utf8'),
) as Record<'connect' | 'message' | 'disconnect', WebSocketEvent>;

function recorder(connectOk: boolean) {
  const calls: unknown[][] = [];
  const signaling = {
    connect: async (...args: unknown[]) => {
      calls.push(['connect', ...args]);
      return connectOk ? { ok: true } : { ok: false, status: 401, message: 'join token already used' };
    },
    message: async (...args: unknown[]) => void calls.push(['message', ...args]),
    disconnect: async (...args: unknown[]) => void calls.push(['disconnect', ...args]),
  } as unknown as SignalingFunction;
  return { handler: websocketHandler(signaling), calls };
}

describe('Lambda WebSocket handler (API Gateway WebSocket event fixtures)', () => {
  it('$connect passes the token from the query string and accepts with 200', async () => {
    const { handler, calls } = recorder(true);
    expect(await handler(fixtures.connect)).toEqual({ statusCode: 200 });
    expect(calls).toEqual([['connect', 'Jq2ZfcxPIAMCJ3A=', 'TOKEN', undefined]]);
    // A session coming back presents its resume ticket instead.
    await handler({ ...fixtures.connect, queryStringParameters: { resume: 'TICKET' } });
    expect(calls[1]).toEqual(['connect', 'Jq2ZfcxPIAMCJ3A=', undefined, 'TICKET']);
  });

  it('$connect refusal returns the status, so API Gateway opens no socket', async () => {
    const { handler } = recorder(false);
    expect(await handler(fixtures.connect)).toEqual({ statusCode: 401, body: 'join token already used' });
    const { handler: noToken, calls } = recorder(true);
    await noToken({ ...fixtures.connect, queryStringParameters: null });
    expect(calls[0]).toEqual(['connect', 'Jq2ZfcxPIAMCJ3A=', undefined, undefined]);
  });

  it('$default hands the body to the signaling function, decoding base64 bodies', async () => {
    const { handler, calls } = recorder(true);
    await handler(fixtures.message);
    await handler({
      ...fixtures.message,
      body: Buffer.from('{"id":2}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(calls).toEqual([
      ['message', 'Jq2ZfcxPIAMCJ3A=', '{"id":1,"method":"login","params":{}}'],
      ['message', 'Jq2ZfcxPIAMCJ3A=', '{"id":2}'],
    ]);
  });

  it('$disconnect tells the signaling function whether the client left (1000/1001) or was cut off', async () => {
    const { handler, calls } = recorder(true);
    expect(await handler(fixtures.disconnect)).toEqual({ statusCode: 200 });
    const cut = { ...fixtures.disconnect.requestContext, disconnectStatusCode: 1006 };
    await handler({ ...fixtures.disconnect, requestContext: cut });
    expect(calls).toEqual([
      ['disconnect', 'Jq2ZfcxPIAMCJ3A=', { left: true }],
      ['disconnect', 'Jq2ZfcxPIAMCJ3A=', { left: false }],
    ]);
  });
});
