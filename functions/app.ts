import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { getPath } from 'hono/utils/url';
import { ErrorCodes, NotImplementedError, TesseraError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { bodyRules } from './http/bodyRules.ts';
import type { ApiEnv } from './http/env.ts';
import { errorResponse } from './http/errorResponse.ts';
import { validationHook } from './http/validation.ts';
import { ingressRoutes } from './routes/ingresses.ts';
import { liveRoutes } from './routes/live.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { roomRoutes } from './routes/rooms.ts';
import { nodeRoutes, serviceRoutes, tokenRoutes } from './routes/servicesAndTokens.ts';
import { streamingInRoutes } from './routes/streamingIns.ts';
import { streamingOutRoutes } from './routes/streamingOuts.ts';
import type { ManagementApi } from './services/ManagementApi.ts';
import { unimplementedRoomResources } from './services/unimplemented.ts';

export interface HealthSource {
  health(): { workers: number; workersAlive: number };
}

export interface AppDeps {
  logger: Logger;
  api: ManagementApi;
  /** The media node in this process (embedded mode); absent for stateless functions. */
  mediaNode?: HealthSource;
  /** Router RTP capabilities (the same on every router), for clients to load before joining. */
  rtpCapabilities?: () => unknown;
  /** Whether each store this process needs answers now (Adapters.readiness); none when absent. */
  readiness?: () => Promise<Record<string, boolean>>;
  /** More routes, added by a composition root (the embedded mode's demo page). */
  extensions?: ((app: OpenAPIHono<ApiEnv>, api: ManagementApi) => void)[];
}

const MAX_BODY_BYTES = 64 * 1024;
const PUBLIC_PATHS = new Set(['/v1/openapi.json', '/v1/rtp-capabilities']);
const version = '0.1.0';

/**
 * OWT's paths onto Tessera's, before routing: OWT serves services at `/services`, streams at
 * `/v1.1/rooms/…` (the rest of v1.1 falls back to v1), and Express ignores a trailing slash,
 * which OWT's server SDK sends (`rooms/{room}/tokens/`). Everything else is left as it is.
 */
export function routingPath(request: Request): string {
  let path = getPath(request);
  if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '') || '/';
  if (path === '/services' || path.startsWith('/services/')) return `/v1${path}`;
  if (path.startsWith('/v1.1/rooms')) return `/v1${path.slice('/v1.1'.length)}`;
  return path;
}

/** The one hono app; the Node and Lambda entries only adapt requests to it. */
export function createApp(deps: AppDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook, getPath: routingPath });

  app.get('/healthz', (c) => {
    const media = deps.mediaNode?.health();
    const healthy = !media || media.workersAlive === media.workers;
    return c.json({ status: healthy ? 'ok' : 'degraded', ...(media ? { media } : {}) }, healthy ? 200 : 503);
  });

  // Readiness, unlike liveness, asks the stores: a load balancer stops sending requests this
  // process could only answer with 503 (each check is bounded by its store's timeout).
  app.get('/readyz', async (c) => {
    const results = (await deps.readiness?.()) ?? {};
    const ready = Object.values(results).every(Boolean);
    const checks = Object.fromEntries(
      Object.entries(results).map(([name, ok]) => [name, ok ? 'ok' : 'failed']),
    );
    return c.json({ status: ready ? 'ready' : 'unready', checks }, ready ? 200 : 503);
  });

  // Bodies: at most 64 KiB, JSON only, refused before they are read (the demo's join too).
  for (const path of ['/v1/*', '/demo/*']) app.use(path, bodyRules(MAX_BODY_BYTES));
  app.use('/v1/*', async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    c.set('caller', await deps.api.auth.authenticate(c.req.header('authorization')));
    return next();
  });

  serviceRoutes(app, deps.api);
  roomRoutes(app, deps.api);
  tokenRoutes(app, deps.api);
  liveRoutes(app, deps.api);
  recordingRoutes(app, deps.api);
  streamingOutRoutes(app, deps.api);
  streamingInRoutes(app, deps.api);
  ingressRoutes(app, deps.api);
  nodeRoutes(app, deps.api);
  const { rtpCapabilities } = deps;
  if (rtpCapabilities) {
    app.use('/v1/rtp-capabilities', cors({ origin: '*', allowMethods: ['GET'] }));
    app.get('/v1/rtp-capabilities', async (c) => {
      const caps = await rtpCapabilities();
      if (!caps) throw new TesseraError(ErrorCodes.clusterUnavailable, 'no media node has reported yet');
      return c.json(caps as object);
    });
  }
  for (const extend of deps.extensions ?? []) extend(app, deps.api);
  // OWT's sub-resources nothing implements yet: a clear 501, not a 404 that reads like a typo.
  for (const { resource, feature } of unimplementedRoomResources) {
    const refuse = () => {
      throw new NotImplementedError(`${resource}: ${feature}`, { resource });
    };
    app.all(`/v1/rooms/:room/${resource}`, refuse);
    app.all(`/v1/rooms/:room/${resource}/*`, refuse);
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT (HS256 with the service key; iss = service id; iat, exp ≤ 15 min)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'mauth', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: "OWT's `MAuth realm=…,mauth_serviceid=…,mauth_cnonce=…,mauth_timestamp=…,mauth_signature=…`",
  });
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Tessera management API',
      version,
      description: 'OWT-compatible room, participant, stream and token management.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: [{ url: '/', description: 'this deployment (the origin that serves this document)' }],
  });

  app.notFound((c) =>
    c.json(
      { error: { code: ErrorCodes.notFound, message: `no route for ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );
  app.onError((error, c) => errorResponse(c, error, deps.logger));
  return app;
}
