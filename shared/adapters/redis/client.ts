import { Redis } from 'ioredis';
import type { Logger } from '../../logger.ts';

export interface RedisClientOptions {
  /** A command not answered by then fails (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs: number;
  logger: Logger;
}

/** One log line per kind of connection error per window; the rest are counted. */
const ERROR_LOG_WINDOW_MS = 10_000;

/**
 * The ioredis client every part of Tessera uses, configured so a frozen or dead Redis is an
 * answer (an error) within `commandTimeoutMs`, never a hang:
 * - every command carries a timeout, also while it waits for a connection;
 * - once connected, commands are refused at once while disconnected instead of queueing:
 *   a queued write would run after its caller was told it failed;
 * - reconnects go on forever with a backoff capped at 2 s, so Redis coming back is noticed.
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const log = options.logger.child({ component: 'redis' });
  const redis = new Redis(url, {
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1000),
    maxRetriesPerRequest: 1,
    // Before the first connection commands wait (bounded by commandTimeout): a process that has
    // just started should not refuse its first requests.
    enableOfflineQueue: true,
    // Commands cut off by a broken connection were answered as failures; never replay them.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
  });
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });

  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  let failing = false;
  redis.on('error', (error: Error & { code?: string }) => {
    failing = true;
    const kind = error.code ?? error.name;
    const now = Date.now();
    const seen = lastLogged.get(kind);
    if (seen && now - seen.at < ERROR_LOG_WINDOW_MS) {
      seen.suppressed++;
      return;
    }
    lastLogged.set(kind, { at: now, suppressed: 0 });
    log.warn('redis connection error', {
      error: { name: error.name, code: error.code, message: withoutCredentials(error.message) },
      ...(seen?.suppressed ? { suppressed: seen.suppressed } : {}),
    });
  });
  redis.on('ready', () => {
    if (!failing) return;
    failing = false;
    lastLogged.clear();
    log.info('redis connection restored');
  });
  return redis;
}

/** `redis://user:password@host` → `redis://[redacted]@host`, wherever a message quotes a URL. */
export function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1[redacted]@');
}
