import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import { StreamingInRequestSchema, StreamingInSchema } from '../../shared/protocol/http/streamingIn.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';

const StreamingIn = StreamingInSchema.meta({ id: 'StreamingIn' });

const StreamingInRequest = StreamingInRequestSchema.meta({ id: 'StreamingInRequest' });

/** OWT's streaming-ins (RESTAPI.md §5.4): RTSP and RTMP sources pulled into a room. */
export function streamingInRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const InRoom = z.object({ room: RoomIdSchema });
  const One = z.object({ room: RoomIdSchema, stream: z.uuid() });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/streaming-ins',
      operationId: 'startStreamingIn',
      tags: ['streaming-ins'],
      security,
      summary:
        'Pull an RTSP or RTMP source into the room: {connection: {url, transportProtocol: tcp|udp}, media: {audio, video: auto|false}}',
      request: { params: InRoom, body: jsonBody(StreamingInRequest) },
      responses: {
        201: jsonResponse('the stream to come (listed under /streams once it flows)', StreamingIn),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await api.streamingIns.start(c.get('caller'), c.req.valid('param').room, c.req.valid('json')),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/streaming-ins/{stream}',
      operationId: 'stopStreamingIn',
      tags: ['streaming-ins'],
      security,
      summary: 'Stop pulling a source (its stream leaves the room)',
      request: { params: One },
      responses: { 204: { description: 'stopping' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.streamingIns.stop(c.get('caller'), p.room, p.stream);
      return c.body(null, 204);
    },
  );
}
