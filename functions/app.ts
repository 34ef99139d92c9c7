import { Hono } from 'hono';
import type { Logger } from '../shared/logger.ts';
import { errorResponse } from './http/errorResponse.ts';

export interface HealthSource {
  health(): { workers: number; workersAlive: number };
}

export interface AppDeps {
  logger: Logger;
  /** The media node in this process (embedded mode); absent for stateless functions. */
  mediaNode?: HealthSource;
}

/** The one hono app; Node and Lambda entries only adapt requests to it. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => {
    const media = deps.mediaNode?.health();
    const healthy = !media || media.workersAlive === media.workers;
    return c.json({ status: healthy ? 'ok' : 'degraded', ...(media ? { media } : {}) }, healthy ? 200 : 503);
  });

  app.notFound((c) =>
    c.json({ error: { code: 1001, message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => errorResponse(c, error, deps.logger));
  return app;
}
