import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { build } from 'esbuild';
import { z } from 'zod';
import { ConflictError, ValidationError } from '../../shared/errors.ts';
import { RoomIdSchema, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
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

const JoinSchema = z.strictObject({ room: RoomIdSchema, user: z.string().trim().min(1).max(64) });

/**
 * Embedded mode only: the demo page, and a join endpoint that opens the room (as the super
 * service) and hands out a presenter token, so a newcomer can try Tessera with a browser and
 * nothing else. Real applications issue tokens from their own backend via /v1/rooms/{room}/tokens.
 */
export function demoRoutes(app: OpenAPIHono<ApiEnv>, api: ManagementApi, ownerServiceId: string): void {
  app.get('/', (c) => c.html(readFileSync(`${demoDir}index.html`, 'utf8')));
  app.get('/demo.js', async (c) => c.body(await demoBundle(), 200, { 'content-type': 'text/javascript' }));
  app.post('/demo/join', async (c) => {
    const parsed = JoinSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      throw new ValidationError(
        'invalid join',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const owner = { serviceId: ownerServiceId, isSuper: true };
    const { room: roomId, user } = parsed.data;
    const room = await api.rooms.owned(owner, roomId).catch(async () => {
      try {
        return await api.rooms.create(owner, {
          id: roomId,
          name: roomId,
          options: RoomOptionsSchema.parse({}),
        });
      } catch (error) {
        if (error instanceof ConflictError) return api.rooms.owned(owner, roomId);
        throw error;
      }
    });
    return c.json(await api.tokens.issue(room, { user, role: 'presenter' }), 201);
  });
}
