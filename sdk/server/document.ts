import { randomBytes } from 'node:crypto';
import { createApp } from '../../functions/app.ts';
import { managementApi, webhookSettings } from '../../functions/compose.ts';
import { webhookRoutes } from '../../functions/routes/webhooks.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';

/**
 * The management API's OpenAPI document as a deployment serves it at /v1/openapi.json (webhook
 * routes included), built from the routes over throwaway in-memory adapters.
 */
export async function managementApiDocument(): Promise<Record<string, unknown>> {
  const adapters = memoryAdapters();
  const key = () => randomBytes(24).toString('base64url');
  const secrets = {
    superService: { id: 'super', key: key() },
    tokenSecret: key(),
    masterKey: key(),
    joinTokenTtlSeconds: 600,
  };
  const api = managementApi(adapters, secrets);
  const webhooks = webhookSettings(adapters, secrets, loadConfig({}));
  const app = createApp({
    logger: createLogger({ level: 'error', write: () => {} }),
    api,
    extensions: [(app) => webhookRoutes(app, webhooks)],
  });
  const response = await app.request('/v1/openapi.json');
  return (await response.json()) as Record<string, unknown>;
}
