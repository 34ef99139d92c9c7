import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { PermissionError } from '../../shared/errors.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import { safeText } from '../../shared/protocol/http/text.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, PageQuerySchema, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';
import { pageThrough } from './paging.ts';

const ServiceSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
const CreateServiceSchema = z.strictObject({ name: safeText(128) });
const TokenRequestSchema = z.strictObject({
  user: safeText(128),
  role: safeText(64),
  preference: z
    .strictObject({ isp: z.string().max(64).optional(), region: z.string().max(64).optional() })
    .optional(),
});
const TokenSchema = z.object({ token: z.string(), id: z.string(), expiresAt: z.string() });

export function serviceRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const ServiceParams = z.object({ service: z.string().regex(/^[\w-]{1,64}$/) });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/services',
      tags: ['services'],
      security,
      summary: 'Create a service (super service only); its key is shown only here',
      request: { body: jsonBody(CreateServiceSchema) },
      responses: {
        201: jsonResponse('the service and its key', ServiceSchema.extend({ key: z.string() })),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await api.services.create(c.get('caller'), c.req.valid('json').name), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/services',
      tags: ['services'],
      security,
      request: { query: PageQuerySchema },
      responses: { 200: jsonResponse('services', z.array(ServiceSchema)), ...errorResponses },
    }),
    async (c) => {
      const caller = c.get('caller');
      return c.json(
        await pageThrough(c, c.req.valid('query'), (page) => api.services.list(caller, page)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/services/{service}',
      tags: ['services'],
      security,
      request: { params: ServiceParams },
      responses: { 200: jsonResponse('the service', ServiceSchema), ...errorResponses },
    }),
    async (c) => c.json(await api.services.get(c.get('caller'), c.req.valid('param').service), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/services/{service}',
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

export function tokenRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/tokens',
      tags: ['tokens'],
      security,
      summary: "A single-use join token for a user with one of the room's roles",
      request: { params: z.object({ room: RoomIdSchema }), body: jsonBody(TokenRequestSchema) },
      responses: { 201: jsonResponse('the join token', TokenSchema), ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.owned(c.get('caller'), c.req.valid('param').room);
      return c.json(await api.tokens.issue(room, c.req.valid('json')), 201);
    },
  );
}

const NodeSchema = z.object({
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
});

export function nodeRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/nodes',
      tags: ['cluster'],
      security,
      summary: 'Media nodes with their load, rooms and state (super service only)',
      responses: { 200: jsonResponse('media nodes', z.array(NodeSchema)), ...errorResponses },
    }),
    async (c) => c.json(await api.nodes.list(c.get('caller')), 200),
  );
}
