import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { WebhookSettings } from '../webhooks/WebhookSettings.ts';

const SetWebhookSchema = z
  .strictObject({
    url: z.string().max(2048),
    /** Given by the caller, or generated and shown in the answer (only there). */
    secret: z.string().min(32).max(256).optional(),
  })
  .meta({ id: 'WebhookRequest' });
const WebhookSchema = z.object({ url: z.string(), updatedAt: z.string() }).meta({ id: 'Webhook' });

/** A service's webhook (docs/operations.md, "Webhooks"): the service itself or the super service. */
export function webhookRoutes(app: OpenAPIHono<ApiEnv>, settings: WebhookSettings): void {
  const params = z.object({ service: z.string().regex(/^[\w-]{1,64}$/) });

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/services/{service}/webhook',
      operationId: 'setWebhook',
      tags: ['webhooks'],
      security,
      summary: "Set the service's webhook; its secret is shown only in this answer",
      request: { params, body: jsonBody(SetWebhookSchema) },
      responses: {
        200: jsonResponse('the webhook and its secret', WebhookSchema.extend({ secret: z.string() })),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(await settings.set(c.get('caller'), c.req.valid('param').service, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/services/{service}/webhook',
      operationId: 'getWebhook',
      summary: "The service's webhook URL (its secret is never shown again)",
      tags: ['webhooks'],
      security,
      request: { params },
      responses: { 200: jsonResponse('the webhook (never its secret)', WebhookSchema), ...errorResponses },
    }),
    async (c) => c.json(await settings.get(c.get('caller'), c.req.valid('param').service), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/services/{service}/webhook',
      operationId: 'deleteWebhook',
      summary: "Remove the service's webhook: no more events are posted",
      tags: ['webhooks'],
      security,
      request: { params },
      responses: { 204: { description: 'removed' }, ...errorResponses },
    }),
    async (c) => {
      await settings.delete(c.get('caller'), c.req.valid('param').service);
      return c.body(null, 204);
    },
  );
}
