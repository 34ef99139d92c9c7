import { readFileSync } from 'node:fs';
import type { LambdaEvent } from 'hono/aws-lambda';

// The v2 member of hono's event union: the one whose context carries `http`.
type APIGatewayProxyEventV2 = Extract<LambdaEvent, { requestContext: { http: unknown } }>;

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer } from '../harness/controlPlane.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/apigw-http-v2-event.json', import.meta.url), 'utf8'),
);
const SUPER = { id: 'super', key: 'Lambda-test-super-key-5d8a1f3c7e920b64' };

/** An API Gateway HTTP API v2 event from the recorded fixture, for one request. */
function v2Event(
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; query?: string } = {},
): APIGatewayProxyEventV2 {
  const event = structuredClone(fixture);
  event.rawPath = path;
  event.rawQueryString = options.query ?? '';
  if (options.query) event.queryStringParameters = Object.fromEntries(new URLSearchParams(options.query));
  event.requestContext.http.method = method;
  event.requestContext.http.path = path;
  if (options.auth) event.headers.authorization = options.auth;
  if (options.body !== undefined) {
    event.body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    event.headers['content-type'] = 'application/json';
    event.headers['content-length'] = String(Buffer.byteLength(event.body));
  }
  return event;
}

type Handler = (
  event: APIGatewayProxyEventV2,
) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
let handler: Handler;

beforeAll(async () => {
  // The real entry file, configured from the environment as Lambda configures it.
  vi.stubEnv('SUPER_SERVICE_KEY', SUPER.key);
  vi.stubEnv('LOG_LEVEL', 'error');
  handler = (await import('../../functions/entry/lambdaHttp.ts')).handler as unknown as Handler;
});

describe('Lambda HTTP entry (API Gateway v2 events)', () => {
  it('answers health and the OpenAPI document', async () => {
    const health = await handler(v2Event('GET', '/healthz'));
    expect([health.statusCode, JSON.parse(health.body)]).toEqual([200, { status: 'ok' }]);
    const doc = await handler(v2Event('GET', '/v1/openapi.json'));
    expect(JSON.parse(doc.body).openapi).toBe('3.1.0');
  });

  it('runs a management flow: create a room, read it back, page, token, delete', async () => {
    const auth = await bearer(SUPER.id, SUPER.key);
    const created = await handler(
      v2Event('POST', '/v1/rooms', { auth, body: { name: 'from lambda', id: 'lambda-room' } }),
    );
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    const got = await handler(v2Event('GET', '/v1/rooms/lambda-room', { auth }));
    expect(JSON.parse(got.body)).toMatchObject({ id: 'lambda-room', name: 'from lambda' });
    const listed = await handler(v2Event('GET', '/v1/rooms', { auth, query: 'page=1&per_page=5' }));
    expect(JSON.parse(listed.body).map((r: { id: string }) => r.id)).toContain('lambda-room');
    const token = await handler(
      v2Event('POST', '/v1/rooms/lambda-room/tokens', { auth, body: { user: 'u', role: 'viewer' } }),
    );
    expect(token.statusCode).toBe(201);
    expect((await handler(v2Event('DELETE', '/v1/rooms/lambda-room', { auth }))).statusCode).toBe(204);
  });

  it('maps errors exactly as the Node entry does', async () => {
    const auth = await bearer(SUPER.id, SUPER.key);
    const cases: [string, string, { auth?: string; body?: unknown }, number, number][] = [
      ['GET', '/v1/rooms', {}, 401, 1101],
      ['GET', '/v1/rooms/none', { auth }, 404, 1003],
      ['POST', '/v1/rooms', { auth, body: '{bad json' }, 400, 1301],
      ['POST', '/v1/rooms', { auth, body: { name: 5 } }, 400, 1301],
    ];
    for (const [method, path, options, status, code] of cases) {
      const res = await handler(v2Event(method, path, options));
      expect([res.statusCode, JSON.parse(res.body).error.code], `${method} ${path}`).toEqual([status, code]);
    }
  });

  it('gives the same status and body as the Node app for the same requests', async () => {
    const { createApp } = await import('../../functions/app.ts');
    const { composeFunctions } = await import('../../functions/compose.ts');
    const { loadConfig } = await import('../../shared/config/load.ts');
    const { createLogger } = await import('../../shared/logger.ts');
    const node = createApp(composeFunctions(loadConfig(), createLogger({ level: 'error' })));
    const auth = await bearer(SUPER.id, SUPER.key);
    const requests: [string, string, { auth?: string; body?: unknown }][] = [
      ['GET', '/healthz', {}],
      ['GET', '/v1/rooms', {}],
      ['GET', '/v1/rooms/absent', { auth }],
      ['POST', '/v1/rooms', { auth, body: { name: 9 } }],
      ['POST', '/v1/services', { auth, body: { name: 'x', extra: 1 } }],
      ['PATCH', '/v1/rooms/absent', { auth, body: { name: 'y' } }],
      ['DELETE', '/v1/rooms/absent/participants/p', { auth }],
    ];
    for (const [method, path, o] of requests) {
      const viaLambda = await handler(v2Event(method, path, o));
      const viaNode = await node.request(path, {
        method,
        headers: {
          ...(o.auth ? { authorization: o.auth } : {}),
          ...(o.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(o.body ? { body: JSON.stringify(o.body) } : {}),
      });
      expect([viaLambda.statusCode, JSON.parse(viaLambda.body)], `${method} ${path}`).toEqual([
        viaNode.status,
        await viaNode.json(),
      ]);
    }
  });
});
