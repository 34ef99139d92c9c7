import { describe, expect, it } from 'vitest';
import { secretsFor } from '../../functions/compose.ts';
import { newSecret } from '../../functions/services/secrets.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { ConfigError } from '../../shared/errors.ts';

describe('loadConfig', () => {
  it('applies documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(config.logLevel).toBe('info');
    expect(config.media.workers).toBeUndefined();
    expect(config.ffmpegPath).toBeUndefined();
  });

  it('reads PORT, HOST, LOG_LEVEL, MEDIA_WORKERS and FFMPEG_PATH', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '::1',
      LOG_LEVEL: 'debug',
      MEDIA_WORKERS: '3',
      FFMPEG_PATH: '/opt/ffmpeg',
    });
    expect(config).toMatchObject({
      http: { port: 9000, host: '::1' },
      logLevel: 'debug',
      media: { workers: 3 },
      ffmpegPath: '/opt/ffmpeg',
    });
  });

  it('treats an empty FFMPEG_PATH as unset', () => {
    expect(loadConfig({ FFMPEG_PATH: '' }).ffmpegPath).toBeUndefined();
  });

  it('reads NODE_CAPABILITIES as a list of known capabilities; unset is all the node can do', () => {
    expect(loadConfig({}).capabilities).toBeUndefined();
    expect(loadConfig({ NODE_CAPABILITIES: 'sfu, stream' }).capabilities).toEqual(['sfu', 'stream']);
    expect(() => loadConfig({ NODE_CAPABILITIES: 'sfu,gpu' })).toThrow(/NODE_CAPABILITIES/);
  });

  it('reads STREAMING_IN_SCHEMES as a list of pullable schemes; a scheme Tessera does not pull is a ConfigError', () => {
    expect(loadConfig({}).streaming.inSchemes).toEqual(['rtsp', 'rtmp', 'rtmps', 'http', 'https']);
    expect(loadConfig({ STREAMING_IN_SCHEMES: ' RTSP, rtmp ' }).streaming.inSchemes).toEqual([
      'rtsp',
      'rtmp',
    ]);
    expect(() => loadConfig({ STREAMING_IN_SCHEMES: 'rtsp,file' })).toThrow(ConfigError);
  });

  it('lists every bad variable in one ConfigError', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', MEDIA_WORKERS: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).details?.problems as string[];
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'LOG_LEVEL', 'MEDIA_WORKERS']);
  });

  it('chooses nothing distributed by default, and reads the adapter variables', () => {
    expect(loadConfig({})).toMatchObject({
      redisUrl: undefined,
      dynamodbTable: undefined,
      sqsQueuePrefix: undefined,
    });
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      DYNAMODB_TABLE: 'tessera',
      SQS_QUEUE_PREFIX: 'prod-',
      SUPER_SERVICE_KEY: newSecret(),
      TOKEN_SECRET: newSecret(),
      MASTER_KEY: newSecret(),
    });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      dynamodbTable: 'tessera',
      sqsQueuePrefix: 'prod-',
    });
  });

  it('functions insist on shared secrets once state outlives the process', () => {
    const secrets = (env: Record<string, string>) => secretsFor(loadConfig(env));
    const key = newSecret();
    expect(() => secrets({ DYNAMODB_TABLE: 'tessera', SUPER_SERVICE_KEY: key })).toThrow(/MASTER_KEY/);
    expect(() => secrets({ REDIS_URL: 'redis://x', SUPER_SERVICE_KEY: key })).toThrow(/TOKEN_SECRET/);
    expect(() => secrets({ REDIS_URL: 'redis://x', TOKEN_SECRET: key })).toThrow(/SUPER_SERVICE_KEY/);
    expect(secrets({}).generatedSuperKey).toBe(true);
  });

  it('refuses weak shared secrets without ever echoing them', () => {
    const weak = {
      TOKEN_SECRET: 'short-but-random-9f8e7d', // < 32 characters
      MASTER_KEY: 'ab'.repeat(20), // 2 distinct characters
      SUPER_SERVICE_KEY: '0123456789abcdef'.repeat(3), // 16 distinct, but a repeated pattern
    };
    let error: unknown;
    try {
      loadConfig(weak);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).details?.problems as string[];
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'MASTER_KEY',
      'SUPER_SERVICE_KEY',
      'TOKEN_SECRET',
    ]);
    expect(problems.join(' ')).toMatch(/at least 32 characters/);
    expect(problems.join(' ')).toMatch(/distinct characters/);
    expect(problems.join(' ')).toMatch(/repeated pattern/);
    const shown = `${(error as Error).message} ${JSON.stringify((error as ConfigError).details)}`;
    for (const value of Object.values(weak)) expect(shown).not.toContain(value);
  });

  it('accepts generated secrets', () => {
    for (let i = 0; i < 200; i++) {
      const s = newSecret();
      expect(loadConfig({ TOKEN_SECRET: s, MASTER_KEY: s, SUPER_SERVICE_KEY: s }).tokenSecret).toBe(s);
    }
  });
});
