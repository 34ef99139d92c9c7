import { z } from 'zod';
import { LogLevels } from '../logger.ts';

const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

/**
 * Every environment variable Tessera reads, in one schema. Which adapters a process uses is
 * decided by which of these are set (ARCHITECTURE.md §2), never by a separate "mode" switch.
 */
export const EnvSchema = z.object({
  PORT: port.default(8080).describe('HTTP port of the embedded server / functions on Node'),
  HOST: z.string().default('127.0.0.1').describe('address the HTTP server binds to'),
  LOG_LEVEL: z.enum(LogLevels).default('info'),
  MEDIA_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('mediasoup workers per media node (default: one per CPU core)'),
  FFMPEG_PATH: optionalString.describe('ffmpeg binary; else ffmpeg-static, else ffmpeg on PATH'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  http: { port: number; host: string };
  logLevel: Env['LOG_LEVEL'];
  media: { workers: number | undefined };
  ffmpegPath: string | undefined;
}
