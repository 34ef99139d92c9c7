import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { managementApi } from '../../functions/compose.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { testSecrets } from '../harness/controlPlane.ts';

const logged: string[] = [];
const logger = createLogger({ level: 'debug', write: (l) => logged.push(l) });
const api = managementApi(memoryAdapters(), testSecrets);

describe('createApp', () => {
  it('GET /healthz answers ok without a media node', async () => {
    const res = await createApp({ logger, api }).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /healthz reports the media node and turns 503 when a worker is down', async () => {
    let alive = 2;
    const app = createApp({
      logger,
      api,
      mediaNode: { health: () => ({ workers: 2, workersAlive: alive }) },
    });
    expect((await app.request('/healthz')).status).toBe(200);
    alive = 1;
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'degraded', media: { workers: 2, workersAlive: 1 } });
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const res = await createApp({ logger, api }).request('/nope', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 1001, message: 'no route for POST /nope' } });
  });

  it('maps typed errors to their status, and hides unknown ones behind 2001', async () => {
    const app = createApp({ logger, api });
    app.get('/typed', () => {
      throw new TesseraError(ErrorCodes.permissionDenied, 'publish not allowed');
    });
    app.get('/crash', () => {
      throw new Error('database password=hunter2 leaked');
    });
    const typed = await app.request('/typed');
    expect(typed.status).toBe(403);
    expect(await typed.json()).toEqual({ error: { code: 1102, message: 'publish not allowed' } });
    const crash = await app.request('/crash');
    expect(crash.status).toBe(500);
    const body = await crash.text();
    expect(JSON.parse(body)).toEqual({ error: { code: 2001, message: 'unexpected server error' } });
    expect(body).not.toContain('hunter2');
  });
});
