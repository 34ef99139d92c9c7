/**
 * The embedded server as a child process for the fuzz acceptance test (test/integration/fuzz.test.ts):
 * run with `node --expose-gc --import tsx`, so the test can watch it die and measure its heap.
 * The heap is read over the IPC channel only this harness opens: nothing test-only reaches
 * the product's HTTP surface.
 */
import { randomBytes } from 'node:crypto';
import { createApp } from '../../functions/app.ts';
import { composeEmbedded } from '../../functions/composeEmbedded.ts';
import { serveNode } from '../../functions/http/serveNode.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';

export type FuzzTargetMessage =
  | { type: 'ready'; url: string; superService: { id: string; key: string } }
  | { type: 'memory'; heapUsed: number; rss: number };

const send = (message: FuzzTargetMessage) => process.send?.(message);

const config = loadConfig({
  PORT: '1',
  MEDIA_WORKERS: '1',
  LOG_LEVEL: 'error',
  ROOM_EMPTY_GRACE_SECONDS: '1',
  SUPER_SERVICE_KEY: randomBytes(32).toString('base64url'),
  // The fuzz measures robustness, not the rate limits: they would answer most frames with 1303.
  SIGNALING_MESSAGES_PER_SECOND: '1000000',
  SIGNALING_TEXTS_PER_SECOND: '1000000',
  LOGINS_PER_PARTICIPANT_PER_MINUTE: '1000000',
  TOKENS_PER_SERVICE_PER_MINUTE: '1000000',
  // loadConfig defaults the rest; the child inherits PATH and the SDK's variables.
  ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
});
// Errors go to stderr as JSON lines, where the test collects them.
const system = await composeEmbedded(config, createLogger({ level: 'error' }));
const server = await serveNode(createApp(system.deps), '127.0.0.1', 0);
system.gateway.attach(server.server);

process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'memory') return;
  // Twice: the first pass finalizes, the second collects what the finalizers released.
  globalThis.gc?.();
  setTimeout(() => {
    globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    send({ type: 'memory', heapUsed, rss });
  }, 200);
});
process.on('disconnect', () => {
  void server
    .close()
    .then(() => system.close())
    .finally(() => process.exit(0));
});
send({
  type: 'ready',
  url: server.url,
  superService: { id: system.superService.id, key: system.superService.key },
});
