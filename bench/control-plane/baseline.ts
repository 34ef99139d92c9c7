// The control-plane benchmark's baseline: a minimal hono app on Node answering one small JSON
// body, served the way the functions are (@hono/node-server), so the ratio shows what Tessera's
// auth, validation and store round trips cost on top of the framework.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/v1/ping', (c) => c.json({ id: 'ping', name: 'ping', version: 1 }));
const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info) => {
    process.stdout.write(`baseline listening: http://127.0.0.1:${info.port}\n`);
  },
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
