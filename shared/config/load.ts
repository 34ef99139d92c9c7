import { ConfigError } from '../errors.ts';
import { type Config, EnvSchema } from './schema.ts';

/** Reads and validates the environment once; a bad value stops the process with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { problems });
  }
  const e = parsed.data;
  // Shared secrets must be given, not generated, once state outlives one process.
  const missing = [
    e.DYNAMODB_TABLE && !e.MASTER_KEY && 'MASTER_KEY (service keys stored in DynamoDB must stay readable)',
    e.REDIS_URL && !e.TOKEN_SECRET && 'TOKEN_SECRET (every function must verify the same join tokens)',
    (e.REDIS_URL || e.DYNAMODB_TABLE) && !e.SUPER_SERVICE_KEY && 'SUPER_SERVICE_KEY',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration: set ${missing.join(', ')}`, { problems: missing });
  }
  return {
    http: { port: e.PORT, host: e.HOST },
    logLevel: e.LOG_LEVEL,
    media: { workers: e.MEDIA_WORKERS },
    ffmpegPath: e.FFMPEG_PATH,
    redisUrl: e.REDIS_URL,
    dynamodbTable: e.DYNAMODB_TABLE,
    sqsQueuePrefix: e.SQS_QUEUE_PREFIX,
    superService: { id: e.SUPER_SERVICE_ID, key: e.SUPER_SERVICE_KEY },
    tokenSecret: e.TOKEN_SECRET,
    masterKey: e.MASTER_KEY,
    joinTokenTtlSeconds: e.JOIN_TOKEN_TTL_SECONDS,
    nodeId: e.NODE_ID,
    rtc: { listenIp: e.RTC_LISTEN_IP, announcedAddress: e.RTC_ANNOUNCED_ADDRESS, port: e.RTC_PORT },
  };
}
