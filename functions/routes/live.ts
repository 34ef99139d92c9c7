import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { StreamPatchOpSchema } from '../../shared/protocol/commands.ts';
import {
  ParticipantPatchSchema,
  ParticipantSchema,
  StreamSchema,
} from '../../shared/protocol/http/liveState.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';

const StreamPatchOp = StreamPatchOpSchema.meta({ id: 'StreamPatchOp' });

const ParticipantPatch = ParticipantPatchSchema.meta({ id: 'ParticipantPatch' });

const StreamInfo = StreamSchema.meta({ id: 'Stream' });

const ParticipantInfo = ParticipantSchema.meta({ id: 'Participant' });

const id = z.string().regex(/^[\w-]{1,64}$/);

/** Participants and streams of live rooms (state from Redis, actions as media node commands). */
export function liveRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const InRoom = z.object({ room: RoomIdSchema });
  const Participant = z.object({ room: RoomIdSchema, participant: id });
  const Stream = z.object({ room: RoomIdSchema, stream: id });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/participants',
      operationId: 'listParticipants',
      summary: 'The participants in the room now',
      tags: ['participants'],
      security,
      request: { params: InRoom },
      responses: {
        200: jsonResponse('participants in the room', z.array(ParticipantInfo)),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await api.participants.list(c.get('caller'), c.req.valid('param').room), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/participants/{participant}',
      operationId: 'getParticipant',
      summary: 'One participant, with its permissions and streams',
      tags: ['participants'],
      security,
      request: { params: Participant },
      responses: { 200: jsonResponse('the participant', ParticipantInfo), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.participants.get(c.get('caller'), p.room, p.participant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/rooms/{room}/participants/{participant}',
      operationId: 'updateParticipant',
      tags: ['participants'],
      security,
      summary: 'Change permissions: [{op: "replace", path: "/permission/publish/audio", value: false}, …]',
      request: { params: Participant, body: jsonBody(ParticipantPatch) },
      responses: { 200: jsonResponse('the participant', ParticipantInfo), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(
        await api.participants.updatePermission(c.get('caller'), p.room, p.participant, c.req.valid('json')),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/participants/{participant}',
      operationId: 'dropParticipant',
      tags: ['participants'],
      security,
      summary: 'Drop a participant from the room',
      request: { params: Participant },
      responses: { 204: { description: 'dropped' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.participants.drop(c.get('caller'), p.room, p.participant);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/streams',
      operationId: 'listStreams',
      summary: 'The streams in the room: forwarded, mixed and streamed in',
      tags: ['streams'],
      security,
      request: { params: InRoom },
      responses: { 200: jsonResponse('streams in the room', z.array(StreamInfo)), ...errorResponses },
    }),
    async (c) => c.json(await api.streams.list(c.get('caller'), c.req.valid('param').room), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/streams/{stream}',
      operationId: 'getStream',
      summary: 'One stream',
      tags: ['streams'],
      security,
      request: { params: Stream },
      responses: { 200: jsonResponse('the stream', StreamInfo), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.streams.get(c.get('caller'), p.room, p.stream), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/rooms/{room}/streams/{stream}',
      operationId: 'updateStream',
      tags: ['streams'],
      security,
      summary:
        "OWT's ops: pause/play (/media/{audio,video}/status), mix/unmix (/info/inViews), layout of a mixed stream (/info/layout, /info/layout/{i}/stream)",
      request: { params: Stream, body: jsonBody(z.array(StreamPatchOp).min(1).max(32)) },
      responses: { 200: jsonResponse('the stream', StreamInfo), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.streams.patch(c.get('caller'), p.room, p.stream, c.req.valid('json')), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/streams/{stream}',
      operationId: 'deleteStream',
      tags: ['streams'],
      security,
      summary: 'Stop a stream',
      request: { params: Stream },
      responses: { 204: { description: 'removed' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.streams.delete(c.get('caller'), p.room, p.stream);
      return c.body(null, 204);
    },
  );
}
