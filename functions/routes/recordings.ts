import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { RecordingRequestSchema, RecordingSchema } from '../../shared/protocol/http/recording.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';
import { StreamingOutPatchOpSchema } from '../../shared/protocol/http/streamingOut.ts';
import type { ApiEnv } from '../http/env.ts';
import { errorResponses, jsonBody, jsonResponse, security } from '../http/validation.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';

const RecordingRequest = RecordingRequestSchema.meta({ id: 'RecordingRequest' });

const PublicRecording = RecordingSchema.omit({ nodeId: true }).meta({ id: 'Recording' });

/** OWT's recordings (RESTAPI.md §5.6), kept after they end with status, size, duration and files. */
export function recordingRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi): void {
  const InRoom = z.object({ room: RoomIdSchema });
  const One = z.object({ room: RoomIdSchema, recording: z.uuid() });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/recordings',
      operationId: 'listRecordings',
      tags: ['recordings'],
      security,
      summary: "The room's recordings, running and ended, oldest first",
      request: { params: InRoom },
      responses: { 200: jsonResponse('recordings', z.array(PublicRecording)), ...errorResponses },
    }),
    async (c) => c.json(await api.recordings.list(c.get('caller'), c.req.valid('param').room), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/rooms/{room}/recordings',
      operationId: 'startRecording',
      tags: ['recordings'],
      security,
      summary:
        'Start recording: {container: auto|mkv|mp4|webm, media: {audio: {from} | false, video: {from} | false}} (copied as published, no re-encoding)',
      request: { params: InRoom, body: jsonBody(RecordingRequest) },
      responses: { 201: jsonResponse('the recording, starting', PublicRecording), ...errorResponses },
    }),
    async (c) =>
      c.json(
        await api.recordings.start(c.get('caller'), c.req.valid('param').room, c.req.valid('json')),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rooms/{room}/recordings/{recording}',
      operationId: 'getRecording',
      summary: 'One recording, running or ended',
      tags: ['recordings'],
      security,
      request: { params: One },
      responses: { 200: jsonResponse('the recording', PublicRecording), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await api.recordings.get(c.get('caller'), p.room, p.recording), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/rooms/{room}/recordings/{recording}',
      operationId: 'updateRecording',
      tags: ['recordings'],
      security,
      summary:
        "OWT's ops on a recording: replace /media/audio/from or /media/video/from switches its sources live, into the next part file (video parameters: 501)",
      request: { params: One, body: jsonBody(z.array(StreamingOutPatchOpSchema).min(1).max(4)) },
      responses: { 200: jsonResponse('the recording', PublicRecording), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(
        await api.recordings.update(c.get('caller'), p.room, p.recording, c.req.valid('json')),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/rooms/{room}/recordings/{recording}',
      operationId: 'stopRecording',
      tags: ['recordings'],
      security,
      summary: 'Stop a recording (its file is finished; the record stays, `stopping` until the node reports)',
      request: { params: One },
      responses: { 204: { description: 'stopping, or ended already' }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await api.recordings.stop(c.get('caller'), p.room, p.recording);
      return c.body(null, 204);
    },
  );
}
