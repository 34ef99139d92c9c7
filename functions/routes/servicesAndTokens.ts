import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { PermissionError } from '../../shared/errors.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import { safeText } from '../../shared/protocol/http/text.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, PageQuerySchema, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';
import { pageThrough } from './paging.ts';

/** OWT's service `_id` alongside Tessera's `id` (the key is never shown again, unlike OWT). */
const ServiceSchema = z
  .object({ _id: z.string(), id: z.string(), name: z.string(), createdAt: z.string() })
  .meta({ id: 'Service' });
const withOwtId = <T extends { id: string }>(service: T) => ({ _id: service.id, ...service });
const CreateServiceSchema = z.strictObject({ name: safeText(128) }).meta({ id: 'ServiceRequest' });
const TokenRequestSchema = z
  .strictObject({
    user: safeText(128),
    role: safeText(64),
    preference: z
      .strictObject({ isp: z.string().max(64).optional(), region: z.string().max(64).optional() })
      .optional(),
  })
  .meta({ id: 'TokenRequest' });
const TokenSchema = z
  .object({ token: z.string(), id: z.string(), expiresAt: z.string() })
  .meta({ id: 'Token' });

export function serviceRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const ServiceParams = z.object({ service: z.string().regex(/^[\w-]{1,64}$/) });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/services',
      operationId: 'createService',
      tags: ['services'],
      security,
      summary: 'Create a service (super service only); its key is shown only here',
      request: { body: jsonBody(CreateServiceSchema) },
      responses: {
        201: jsonResponse('the service and its key', ServiceSchema.extend({ key: z.string() })),
        ...errorResponses,
      },
    }),
    async (c) => c.json(withOwtId(await api.services.create(c.get('caller'), c.req.valid('json').name)), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/services',
      operationId: 'listServices',
      summary: 'List the services (super service only)',
      tags: ['services'],
      security,
      request: { query: PageQuerySchema },
      responses: { 200: jsonResponse('services', z.array(ServiceSchema)), ...errorResponses },
    }),
    async (c) => {
      const caller = c.get('caller');
      const services = await pageThrough(c, c.req.valid('query'), (page) => api.services.list(caller, page));
      return c.json(services.map(withOwtId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/services/{service}',
      operationId: 'getService',
      summary: 'One service (super service only; its key is never shown again)',
      tags: ['services'],
      security,
      request: { params: ServiceParams },
      responses: { 200: jsonResponse('the service', ServiceSchema), ...errorResponses },
    }),
    async (c) =>
      c.json(withOwtId(await api.services.get(c.get('caller'), c.req.valid('param').service)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/services/{service}',
      operationId: 'deleteService',
      summary: 'Delete a service (super service only)',
      tags: ['services'],
      security,
      request: { params: ServiceParams },
      responses: { 204: { description: 'deleted' }, ...errorResponses },
    }),
    async (c) => {
      const caller = c.get('caller');
      const id = c.req.valid('param').service;
      if (!caller.isSuper) throw new PermissionError('only the super service manages services');
      await api.services.get(caller, id);
      // Its rooms first: a service that is gone must leave no room, participant or socket behind.
      await api.rooms.deleteAllOf(id);
      await api.services.delete(caller, id);
      return c.body(null, 204);
    },
  );
}

/**
 * OWT answers a token as a bare string (text, 200), and its server SDK hands that string on
 * unparsed; Tessera's answer is JSON `{token, id, expiresAt}` (201). The string is given to who
 * asks for text (`Accept: text/plain`), and to an OWT caller — one signing with OWT's MAuth —
 * unless it asks for JSON (`Accept: application/json`). Bearer callers get JSON by default.
 */
function wantsTokenText(accept: string | undefined, authorization: string | undefined): boolean {
  const types = (accept ?? '').toLowerCase();
  if (types.includes('application/json')) return false;
  if (types.includes('text/plain')) return true;
  return /^\s*MAuth\s/.test(authorization ?? '');
}

export function tokenRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/tokens',
      operationId: 'createToken',
      tags: ['tokens'],
      security,
      summary:
        "A single-use join token for a user with one of the room's roles; as OWT's bare string for MAuth callers and Accept: text/plain",
      request: { params: z.object({ room: RoomIdSchema }), body: jsonBody(TokenRequestSchema) },
      responses: {
        200: { description: 'the join token alone (OWT)', content: { 'text/plain': { schema: z.string() } } },
        201: jsonResponse('the join token', TokenSchema),
        ...errorResponses,
      },
    }),
    async (c) => {
      const room = await api.rooms.owned(c.get('caller'), c.req.valid('param').room);
      const issued = await api.tokens.issue(room, c.req.valid('json'));
      if (wantsTokenText(c.req.header('accept'), c.req.header('authorization')))
        return c.text(issued.token, 200);
      return c.json(issued, 201);
    },
  );
}

const NodeSchema = z
  .object({
    id: z.string(),
    state: z.enum(['ready', 'draining', 'full', 'stale']),
    rooms: z.number(),
    workers: z.number(),
    workersAlive: z.number(),
    load: z.number(),
    draining: z.boolean(),
    reportedAt: z.number(),
    region: z.string().optional(),
    isp: z.string().optional(),
    capabilities: z.array(z.string()),
    pipes: z.number().optional(),
  })
  .meta({ id: 'Node' });

export function nodeRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/nodes',
      operationId: 'listNodes',
      tags: ['cluster'],
      security,
      summary: 'Media nodes with their load, rooms and state (super service only)',
      responses: { 200: jsonResponse('media nodes', z.array(NodeSchema)), ...errorResponses },
    }),
    async (c) => c.json(await api.nodes.list(c.get('caller')), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/dead-letters',
      operationId: 'listDeadLetters',
      tags: ['cluster'],
      security,
      summary: 'Commands media nodes gave up on, with why (read, left in the queue; super service only)',
      request: {
        query: z.object({ max: z.coerce.number().int().min(1).max(100).default(20) }),
      },
      responses: { 200: jsonResponse('dead letters', z.array(DeadLetterSchema)), ...errorResponses },
    }),
    async (c) => c.json(await api.nodes.deadLetters(c.get('caller'), c.req.valid('query').max), 200),
  );
}

const DeadLetterSchema = z
  .object({
    nodeId: z.string().optional(),
    reason: z.string().optional(),
    at: z.string().optional().describe('when it was dead-lettered (ISO 8601)'),
    type: z.string().optional().describe("the command's type, e.g. participant.drop"),
    roomId: z.string().optional().describe("the room's key, <serviceId>/<roomId>"),
    commandId: z.string().optional(),
  })
  .meta({ id: 'DeadLetter' });
