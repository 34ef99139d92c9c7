/**
 * Tessera's server SDK: a typed client of the management REST API for application back ends
 * (rooms, tokens, participants, streams, recordings, streaming, services, nodes), generated from
 * the API's OpenAPI document (openapi-typescript types, openapi-fetch requests), signing every
 * request with the service key as a short-lived bearer JWT or with OWT's MAuth.
 *
 *   const admin = createTesseraAdmin({ baseUrl, credentials: { serviceId, key } });
 *   const room = ok(await admin.POST('/v1/rooms', { body: { name: 'standup' } }));
 *   const { token } = ok(await admin.POST('/v1/rooms/{room}/tokens', {
 *     params: { path: { room: room.id } }, body: { user: 'ada', role: 'presenter' } }));
 */
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };
/** The API's named schemas: `Schemas['Room']`, `Schemas['Token']`… */
export type Schemas = components['schemas'];
export type TesseraAdmin = Client<paths>;

export type Credentials =
  /** A service's id and key (the super service's, or one created over POST /v1/services). */
  | { serviceId: string; key: string; scheme?: 'bearer' | 'mauth' }
  /** A bearer JWT obtained elsewhere, sent as it is. */
  | { bearer: string };

export interface TesseraAdminOptions {
  /** The deployment's origin, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  credentials: Credentials;
  /** Lifetime of the bearer JWTs it signs (the server accepts at most 15 min); 5 min by default. */
  bearerTtlSeconds?: number;
  fetch?: (request: Request) => Promise<Response>;
}

/** A typed client of one deployment's management API. */
export function createTesseraAdmin(options: TesseraAdminOptions): TesseraAdmin {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    // JSON answers throughout (a join token is OWT's bare string for MAuth callers who do not ask).
    headers: { Accept: 'application/json' },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(signer(options.credentials, options.bearerTtlSeconds ?? 300));
  return client;
}

function signer(credentials: Credentials, ttlSeconds: number): Middleware {
  if ('bearer' in credentials) {
    const header = `Bearer ${credentials.bearer}`;
    return { onRequest: ({ request }) => withAuthorization(request, header) };
  }
  const { serviceId, key, scheme = 'bearer' } = credentials;
  if (scheme === 'mauth')
    // A fresh nonce per request: the server refuses a signature it has seen.
    return { onRequest: ({ request }) => withAuthorization(request, mauthHeader(serviceId, key)) };
  // One JWT reused until a minute before it expires: signing per request costs for nothing.
  let cached: { header: string; renewAt: number } | undefined;
  return {
    async onRequest({ request }) {
      const now = Math.floor(Date.now() / 1000);
      if (!cached || now >= cached.renewAt) {
        const jwt = await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setIssuer(serviceId)
          .setIssuedAt(now)
          .setExpirationTime(now + ttlSeconds)
          .sign(new TextEncoder().encode(key));
        cached = { header: `Bearer ${jwt}`, renewAt: now + Math.max(1, ttlSeconds - 60) };
      }
      return withAuthorization(request, cached.header);
    },
  };
}

function withAuthorization(request: Request, value: string): Request {
  request.headers.set('Authorization', value);
  return request;
}

/** OWT's MAuth: base64 of the hex HMAC-SHA256 of "timestamp,cnonce" with the service key. */
export function mauthHeader(serviceId: string, key: string, now = Date.now()): string {
  const cnonce = randomBytes(12).toString('hex');
  const timestamp = String(now);
  const signature = Buffer.from(
    createHmac('sha256', key).update(`${timestamp},${cnonce}`).digest('hex'),
  ).toString('base64');
  return `MAuth realm=tessera,mauth_signature_method=HMAC_SHA256,mauth_serviceid=${serviceId},mauth_cnonce=${cnonce},mauth_timestamp=${timestamp},mauth_signature=${signature}`;
}

/** An error answer of the API: its HTTP status and Tessera's stable error code. */
export class TesseraApiError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  readonly issues: { path: string; message: string }[] | undefined;

  constructor(status: number, body: unknown) {
    const error = (body as Schemas['Error'] | undefined)?.error;
    super(error?.message ?? `HTTP ${status}`);
    this.name = 'TesseraApiError';
    this.status = status;
    this.code = error?.code;
    this.issues = error?.issues;
  }
}

/** The data of a successful answer; a TesseraApiError for an error answer. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok)
    throw new TesseraApiError(result.response.status, result.error);
  return result.data as T;
}
