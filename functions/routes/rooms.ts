import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  CreateRoomSchema,
  type Room,
  RoomIdSchema,
  type RoomInput,
  RoomResponseSchema,
  roomInput,
  roomResponse,
  UpdateRoomSchema,
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
const RoomSchema = RoomResponseSchema.meta({ id: 'Room' });
const RoomCreate = CreateRoomSchema.meta({ id: 'RoomRequest' });
const RoomUpdate = UpdateRoomSchema.meta({ id: 'RoomUpdate' });
const withEtag = { headers: z.object({ ETag: z.string() }) };

export function roomRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms',
      operationId: 'createRoom',
      tags,
      security,
      summary: "Create a room: OWT's {name, options} or flat room object, OWT's defaults",
      request: { body: jsonBody(RoomCreate) },
      responses: { 201: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const { name, id, options } = roomInput(c.req.valid('json'));
      const room = await api.rooms.create(c.get('caller'), { name: name!, ...(id ? { id } : {}), options });
      c.header('ETag', `"${room.version}"`);
      return c.json(roomResponse(room), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms',
      operationId: 'listRooms',
      tags,
      security,
      summary: "List the caller's rooms; ?page/per_page (OWT) or ?cursor (X-Next-Cursor)",
      request: { query: PageQuerySchema },
      responses: { 200: jsonResponse('rooms, oldest first', z.array(RoomSchema)), ...errorResponses },
    }),
    async (c) => {
      const caller = c.get('caller');
      const rooms = await pageThrough(c, c.req.valid('query'), (page) => api.rooms.list(caller, page));
      return c.json(rooms.map(roomResponse), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}',
      operationId: 'getRoom',
      summary: 'One room, with its ETag',
      tags,
      security,
      request: { params: RoomParams },
      responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
    }),
    async (c) => {
      const room = await api.rooms.owned(c.get('caller'), c.req.valid('param').room);
      c.header('ETag', `"${room.version}"`);
      return c.json(roomResponse(room), 200);
    },
  );

  // PUT replaces ({name, options}) or merges (OWT's flat room object), PATCH merges; both honour If-Match.
  const update = (
    method: 'put' | 'patch',
    operationId: string,
    summary: string,
    apply: (caller: Caller, id: string, input: RoomInput, ifMatch: number | undefined) => Promise<Room>,
  ) =>
    app.openapi(
      createRoute({
        method,
        path: '/v1/rooms/{room}',
        operationId,
        tags,
        security,
        summary,
        request: {
          params: RoomParams,
          body: jsonBody(RoomUpdate),
          headers: z.object({ 'if-match': z.string().optional() }),
        },
        responses: { 200: { ...jsonResponse('the room', RoomSchema), ...withEtag }, ...errorResponses },
      }),
      async (c) => {
        const room = await apply(
          c.get('caller'),
          c.req.valid('param').room,
          roomInput(c.req.valid('json')),
          parseIfMatch(c.req.header('if-match')),
        );
        c.header('ETag', `"${room.version}"`);
        return c.json(roomResponse(room), 200);
      },
    );
  update(
    'put',
    'replaceRoom',
    "Replace a room ({name, options}) or merge OWT's flat room object into it; with If-Match, a changed room is a 409",
    (caller, id, input, ifMatch) => api.rooms.replace(caller, id, input, ifMatch),
  );
  update(
    'patch',
    'updateRoom',
    'Change the named fields of a room; with If-Match, a changed room is a 409',
    (caller, id, input, ifMatch) => api.rooms.patch(caller, id, input, ifMatch),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}',
      operationId: 'deleteRoom',
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
