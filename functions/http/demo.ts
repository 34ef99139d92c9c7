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

const demoDir = fileURLToPath(new URL('../../client/demo/', import.meta.url));
let bundle: Promise<string> | undefined;

/** The demo page's script: the client SDK and the page logic, bundled once per process. */
function demoBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [`${demoDir}demo.ts`],
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

export interface DemoOptions {
  /** The service that owns the demo's rooms (the super service in embedded mode). */
  ownerServiceId: string;
  /** Whether POST /demo/join answers at all (DEMO_JOIN=on; `npm start` turns it on). */
  joinEnabled: boolean;
}

/**
 * Embedded mode only: the demo page, and (when enabled) a join endpoint for loopback callers
 * that opens rooms of its own and hands out presenter tokens for them only, so a newcomer can
 * try Tessera with a browser and nothing else. Real applications issue tokens from their own
 * backend via /v1/rooms/{room}/tokens.
 */
export function demoRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi, options: DemoOptions): void {
  app.get('/', (c) => c.html(readFileSync(`${demoDir}index.html`, 'utf8')));
  app.get('/demo.js', async (c) => c.body(await demoBundle(), 200, { 'content-type': 'text/javascript' }));
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
        .create(owner, { id: roomId, name: roomId, options: RoomOptionsSchema.parse({}) })
        .catch((error) => {
          throw error instanceof ConflictError ? new PermissionError('not a demo room') : error;
        });
      opened.add(roomId);
    }
    const room = await api.rooms.owned(owner, roomId);
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
