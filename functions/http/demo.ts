import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { build } from 'esbuild';
import type { Context } from 'hono';
import { z } from 'zod';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  PermissionError,
} from '../../shared/errors.ts';
import { RoomIdSchema, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import { safeText } from '../../shared/protocol/http/text.ts';
import { parseOrThrow } from '../../shared/protocol/issues.ts';
import type { ManagementApi } from '../services/ManagementApi.ts';
import type { ApiEnv } from './env.ts';

const meetDir = fileURLToPath(new URL('../../client/meet/', import.meta.url));
let bundle: Promise<string> | undefined;

/** The meeting app's script: the client SDK and the app, bundled once per process. */
function meetBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [`${meetDir}main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    write: false,
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

const JoinSchema = z.strictObject({ room: RoomIdSchema, user: safeText(64) });

/** Rooms the demo endpoint may open: enough to try Tessera, too few to be a resource to abuse. */
const MAX_DEMO_ROOMS = 100;
/** People in one demo room (a meeting, not a broadcast). */
const DEMO_ROOM_PARTICIPANTS = 16;

export interface DemoOptions {
  /** The service that owns the demo's rooms (the super service in embedded mode). */
  ownerServiceId: string;
  /** Whether POST /demo/join answers at all (DEMO_JOIN=on; `npm start` turns it on). */
  joinEnabled: boolean;
}

/**
 * Embedded mode only: the meeting app (client/meet), and (when enabled) a join endpoint for loopback callers
 * that opens rooms of its own and hands out presenter tokens for them only, so a newcomer can
 * try Tessera with a browser and nothing else. Real applications issue tokens from their own
 * backend via /v1/rooms/{room}/tokens.
 */
export function demoRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi, options: DemoOptions): void {
  app.get('/', (c) => c.html(readFileSync(`${meetDir}index.html`, 'utf8')));
  app.get('/meet.js', async (c) => c.body(await meetBundle(), 200, { 'content-type': 'text/javascript' }));
  app.get('/meet.css', (c) =>
    c.body(readFileSync(`${meetDir}meet.css`, 'utf8'), 200, { 'content-type': 'text/css' }),
  );
  const owner = { serviceId: options.ownerServiceId, isSuper: true };
  const opened = new Set<string>();
  app.post('/demo/join', async (c) => {
    if (!options.joinEnabled || !fromLoopback(c)) {
      throw new NotFoundError(ErrorCodes.notFound, 'no route for POST /demo/join');
    }
    const body = await c.req.json().catch(() => undefined);
    const { room: roomId, user } = parseOrThrow(JoinSchema, body, 'join');
    if (!opened.has(roomId)) {
      if (opened.size >= MAX_DEMO_ROOMS)
        throw new LimitError(`the demo opens at most ${MAX_DEMO_ROOMS} rooms`);
      // A room the demo did not open (an application's) is not the demo's to hand out.
      await api.rooms
        .create(owner, {
          id: roomId,
          name: roomId,
          options: RoomOptionsSchema.parse({ participantLimit: DEMO_ROOM_PARTICIPANTS }),
        })
        .catch((error) => {
          throw error instanceof ConflictError ? new PermissionError('not a demo room') : error;
        });
      opened.add(roomId);
    }
    const room = await api.rooms.owned(owner, roomId);
    // Said here, where it can be (a refused WebSocket tells the browser nothing of why).
    if ((await api.participants.list(owner, roomId)).length >= DEMO_ROOM_PARTICIPANTS)
      throw new LimitError(`room ${roomId} is full (${DEMO_ROOM_PARTICIPANTS} people)`);
    return c.json(await api.tokens.issue(room, { user, role: 'presenter' }), 201);
  });
}

/** Whether the request came over a loopback connection (Node server only; never true elsewhere). */
function fromLoopback(c: Context): boolean {
  try {
    const address = getConnInfo(c).remote.address ?? '';
    return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  } catch {
    return false;
  }
}
