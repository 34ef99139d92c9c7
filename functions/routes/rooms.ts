import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  CreateRoomSchema,
  PatchRoomSchema,
  ReplaceRoomSchema,
  RoomIdSchema,
  RoomSchema,
} from '../../shared/protocol/http/room.ts';
import type { ApiEnv } from '../http/env.ts';
import {
  errorResponses,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  parseIfMatch,
  security,
} from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';
import { pageThrough } from './paging.ts';

const RoomParams = z.object({ room: RoomIdSchema });
const tags = ['rooms'];
const withEtag = { headers: z.object({ ETag: z.string() }) };

export function roomRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms',
      tags,
      security,
      summary: 'Create a room (OWT room model, OWT defaults)',
      request: { body: jsonBody(CreateRoomSchema) },
      responses: { 201: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.create(c.get('caller'), c.req.valid('json'));
      c.header('ETag', `"${room.version}"`);
      return c.json(room, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms',
      tags,
      security,
      summary: "List the caller's rooms; ?page/per_page (OWT) or ?cursor (X-Next-Cursor)",
      request: { query: PageQuerySchema },
      responses: { 200: jsonResponse('rooms, oldest first', z.array(RoomSchema)), ...errorResponses },
    }),
    async (c) => {
      const caller = c.get('caller');
      return c.json(await pageThrough(c, c.req.valid('query'), (page) => api.rooms.list(caller, page)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}',
      tags,
      security,
      request: { params: RoomParams },
      responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.owned(c.get('caller'), c.req.valid('param').room);
      c.header('ETag', `"${room.version}"`);
      return c.json(room, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/rooms/{room}',
      tags,
      security,
      summary: 'Replace a room; with If-Match, a changed room is a 409',
      request: {
        params: RoomParams,
        body: jsonBody(ReplaceRoomSchema),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.replace(
        c.get('caller'),
        c.req.valid('param').room,
        c.req.valid('json'),
        parseIfMatch(c.req.header('if-match')),
      );
      c.header('ETag', `"${room.version}"`);
      return c.json(room, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/rooms/{room}',
      tags,
      security,
      summary: 'Change some fields of a room; with If-Match, a changed room is a 409',
      request: {
        params: RoomParams,
        body: jsonBody(PatchRoomSchema),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.patch(
        c.get('caller'),
        c.req.valid('param').room,
        c.req.valid('json'),
        parseIfMatch(c.req.header('if-match')),
      );
      c.header('ETag', `"${room.version}"`);
      return c.json(room, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}',
      tags,
      security,
      summary: 'Delete a room; a live room is closed on its media node',
      request: { params: RoomParams },
      responses: { 204: { description: 'deleted' }, ...errorResponses },
    }),
    async (c) => {
      await api.rooms.delete(c.get('caller'), c.req.valid('param').room);
      return c.body(null, 204);
    },
  );
}
