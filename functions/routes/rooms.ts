import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  CreateRoomSchema,
  PatchRoomSchema,
  ReplaceRoomSchema,
  type Room,
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
import type { Caller } from '../services/ServiceRegistry.ts';
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

  // PUT replaces the room, PATCH changes the fields it names; both honour If-Match.
  const update = <S extends typeof ReplaceRoomSchema | typeof PatchRoomSchema>(
    method: 'put' | 'patch',
    body: S,
    summary: string,
    apply: (caller: Caller, id: string, input: z.infer<S>, ifMatch: number | undefined) => Promise<Room>,
  ) =>
    app.openapi(
      createRoute({
        method,
        path: '/v1/rooms/{room}',
        tags,
        security,
        summary,
        request: {
          params: RoomParams,
          body: jsonBody(body),
          headers: z.object({ 'if-match': z.string().optional() }),
        },
        responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
      }),
      async (c) => {
        const input = c.req.valid('json') as z.infer<S>;
        const room = await apply(
          c.get('caller'),
          c.req.valid('param').room,
          input,
          parseIfMatch(c.req.header('if-match')),
        );
        c.header('ETag', `"${room.version}"`);
        return c.json(room, 200);
      },
    );
  update(
    'put',
    ReplaceRoomSchema,
    'Replace a room; with If-Match, a changed room is a 409',
    (caller, id, input, ifMatch) => api.rooms.replace(caller, id, input, ifMatch),
  );
  update(
    'patch',
    PatchRoomSchema,
    'Change some fields of a room; with If-Match, a changed room is a 409',
    (caller, id, input, ifMatch) => api.rooms.patch(caller, id, input, ifMatch),
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
