import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { IngressRequestSchema, IngressSchema } from '../../shared/protocol/http/ingress.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';

const Ingress = IngressSchema.meta({ id: 'Ingress' });

const IngressRequest = IngressRequestSchema.meta({ id: 'IngressRequest' });

/** Push ingest: RTMP with a per-ingress stream key (OBS, ffmpeg, hardware encoders). */
export function ingressRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const InRoom = z.object({ room: RoomIdSchema });
  const One = z.object({ room: RoomIdSchema, ingress: z.uuid() });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/ingresses',
      operationId: 'createIngress',
      tags: ['ingresses'],
      security,
      summary:
        "Take an encoder's RTMP push into the room: {protocol: rtmp, media: {audio, video: auto|false}} → {id, url, streamKey}",
      request: { params: InRoom, body: jsonBody(IngressRequest) },
      responses: {
        201: jsonResponse('where to push (the key is shown this once)', Ingress),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await api.ingresses.create(c.get('caller'), c.req.valid('param').room, c.req.valid('json')),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/ingresses/{ingress}',
      operationId: 'deleteIngress',
      tags: ['ingresses'],
      security,
      summary: 'Stop an ingress: its encoder is disconnected, its stream leaves the room',
      request: { params: One },
      responses: { 204: { description: 'stopping' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.ingresses.delete(c.get('caller'), p.room, p.ingress);
      return c.body(null, 204);
    },
  );
}
