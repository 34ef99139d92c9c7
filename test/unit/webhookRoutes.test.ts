import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { managementApi, webhookSettings } from '../../functions/compose.ts';
import { webhookRoutes } from '../../functions/routes/webhooks.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { createLogger } from '../../shared/logger.ts';
import { bearer, testSecrets } from '../harness/controlPlane.ts';

type Json = { id: string; key: string; url: string; secret: string; updatedAt: string };

function setup(allowPrivateUrls: boolean) {
  const adapters = memoryAdapters();
  const api = managementApi(adapters, testSecrets);
  const settings = webhookSettings(adapters, testSecrets, { webhooks: { allowPrivateUrls } });
  const logs: string[] = [];
  const app = createApp({
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    api,
    extensions: [(a) => webhookRoutes(a, settings)],
  });
  const superAuth = () => bearer(testSecrets.superService.id, testSecrets.superService.key);
  const call = async (method: string, path: string, auth: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Json };
  };
  return { app, settings, superAuth, call, logs };
}

describe('webhook routes', () => {
  it('sets a webhook (secret shown once), reads it without the secret, removes it', async () => {
    const { call, superAuth, settings, logs } = setup(false);
    const svc = (await call('POST', '/v1/services', await superAuth(), { name: 'a' })).body;
    const other = (await call('POST', '/v1/services', await superAuth(), { name: 'b' })).body;
    const auth = await bearer(svc.id, svc.key);
    const path = `/v1/services/${svc.id}/webhook`;

    expect((await call('GET', path, auth)).status).toBe(404);
    const set = await call('PUT', path, auth, { url: 'https://hooks.example.com/tessera' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      url: 'https://hooks.example.com/tessera',
      updatedAt: expect.any(String),
      secret: expect.stringMatching(/^.{32,}$/),
    });
    const read = await call('GET', path, auth);
    expect(read.body).toEqual({ url: 'https://hooks.example.com/tessera', updatedAt: set.body.updatedAt });
    expect(await settings.targetOf(svc.id)).toEqual({ url: read.body.url, secret: set.body.secret });
    expect(logs.join('\n')).not.toContain(set.body.secret);

    // Another service may not touch it; the super service may.
    const otherAuth = await bearer(other.id, other.key);
    expect((await call('GET', path, otherAuth)).status).toBe(403);
    expect((await call('PUT', path, otherAuth, { url: 'https://evil.example.com/' })).status).toBe(403);
    expect((await call('GET', path, await superAuth())).status).toBe(200);

    expect((await call('DELETE', path, auth)).status).toBe(204);
    expect((await call('GET', path, auth)).status).toBe(404);
    expect(await settings.targetOf(svc.id)).toBeUndefined();
    expect(
      (await call('PUT', '/v1/services/nobody/webhook', await superAuth(), { url: 'https://a.example/' }))
        .status,
    ).toBe(404);
  });

  it('accepts http(s) URLs only, and private or loopback hosts only when configured', async () => {
    const strict = setup(false);
    const svc = (await strict.call('POST', '/v1/services', await strict.superAuth(), { name: 'a' })).body;
    const auth = await bearer(svc.id, svc.key);
    const put = (url: unknown, extra = {}) =>
      strict.call('PUT', `/v1/services/${svc.id}/webhook`, auth, { url, ...extra });
    for (const url of [
      'ftp://example.com/',
      'not a url',
      'https://user:pw@example.com/',
      'http://127.0.0.1:9/',
      'http://169.254.169.254/',
      'http://[::1]/',
    ])
      expect((await put(url)).status, url).toBe(400);
    expect((await put('https://example.com/', { secret: 'short' })).status).toBe(400);
    expect((await put('https://example.com/', { extra: 1 })).status).toBe(400);

    const open = setup(true);
    const svc2 = (await open.call('POST', '/v1/services', await open.superAuth(), { name: 'a' })).body;
    const res = await open.call('PUT', `/v1/services/${svc2.id}/webhook`, await bearer(svc2.id, svc2.key), {
      url: 'http://127.0.0.1:9/hook',
    });
    expect(res.status).toBe(200);
  });
});
