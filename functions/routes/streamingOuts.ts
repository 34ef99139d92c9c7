import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import {
  StreamingOutPatchOpSchema,
  StreamingOutRequestSchema,
  StreamingOutSchema,
} from '../../shared/protocol/http/streamingOut.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';

const StreamingOutPatchOp = StreamingOutPatchOpSchema.meta({ id: 'StreamingOutPatchOp' });

const StreamingOutRequest = StreamingOutRequestSchema.meta({ id: 'StreamingOutRequest' });

const PublicStreamingOut = StreamingOutSchema.omit({ nodeId: true }).meta({ id: 'StreamingOut' });

/** OWT's streaming-outs (RESTAPI.md §5.5): RTMP and RTSP push of a room's streams as H.264 + AAC. */
export function streamingOutRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const InRoom = z.object({ room: RoomIdSchema });
  const One = z.object({ room: RoomIdSchema, out: z.uuid() });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/streaming-outs',
      operationId: 'listStreamingOuts',
      tags: ['streaming-outs'],
      security,
      summary: "The room's streaming-outs that run (and failed ones, until deleted)",
      request: { params: InRoom },
      responses: { 200: jsonResponse('streaming-outs', z.array(PublicStreamingOut)), ...errorResponses },
    }),
    async (c) => c.json(await api.streamingOuts.list(c.get('caller'), c.req.valid('param').room), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/streaming-outs',
      operationId: 'startStreamingOut',
      tags: ['streaming-outs'],
      security,
      summary:
        'Start a streaming-out: {protocol: rtmp|rtsp, url, media: {audio: {from} | false, video: {from} | false}} (hls, dash: 501)',
      request: { params: InRoom, body: jsonBody(StreamingOutRequest) },
      responses: { 201: jsonResponse('the streaming-out, starting', PublicStreamingOut), ...errorResponses },
    }),
    async (c) =>
      c.json(
        await api.streamingOuts.start(c.get('caller'), c.req.valid('param').room, c.req.valid('json')),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/streaming-outs/{out}',
      operationId: 'getStreamingOut',
      summary: 'One streaming-out',
      tags: ['streaming-outs'],
      security,
      request: { params: One },
      responses: { 200: jsonResponse('the streaming-out', PublicStreamingOut), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.streamingOuts.get(c.get('caller'), p.room, p.out), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/rooms/{room}/streaming-outs/{out}',
      operationId: 'updateStreamingOut',
      tags: ['streaming-outs'],
      security,
      summary:
        "OWT's ops on a streaming-out: replace /media/audio/from or /media/video/from switches its sources live (video parameters: 501)",
      request: { params: One, body: jsonBody(z.array(StreamingOutPatchOp).min(1).max(4)) },
      responses: { 200: jsonResponse('the streaming-out', PublicStreamingOut), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.streamingOuts.update(c.get('caller'), p.room, p.out, c.req.valid('json')), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/streaming-outs/{out}',
      operationId: 'stopStreamingOut',
      tags: ['streaming-outs'],
      security,
      summary: 'Stop a streaming-out',
      request: { params: One },
      responses: { 204: { description: 'stopped' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.streamingOuts.stop(c.get('caller'), p.room, p.out);
      return c.body(null, 204);
    },
  );
}
