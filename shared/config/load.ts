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
  return {
    http: { port: e.PORT, host: e.HOST },
    logLevel: e.LOG_LEVEL,
    media: { workers: e.MEDIA_WORKERS },
    ffmpegPath: e.FFMPEG_PATH,
  };
}
