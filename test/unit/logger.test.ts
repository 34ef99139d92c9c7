import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('logger', () => {
  it('writes one JSON object per event with level, message and fields', () => {
    const { logger, lines } = capture();
    logger.info('room created', { roomId: 'r1' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'room created', roomId: 'r1' });
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('drops events below the threshold', () => {
    const { logger, lines } = capture('warn');
    logger.info('quiet');
    logger.debug('quieter');
    logger.error('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });

  it('redacts secret-looking fields at any depth, including child bindings', () => {
    const { logger, lines } = capture();
    const child = logger.child({ apiKey: 'k-123' });
    child.warn('login', {
      user: 'ana',
      token: 'eyJhbGciOi',
      nested: { serviceSecret: 's3cr3t', list: [{ password: 'p' }], authorization: 'Bearer x' },
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of ['k-123', 'eyJhbGciOi', 's3cr3t', '"p"', 'Bearer x'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ user: 'ana', token: '[redacted]', apiKey: '[redacted]' });
  });

  it('logs errors as name and message, without stack traces', () => {
    const { logger, lines } = capture();
    logger.error('failed', { error: new TypeError('boom') });
    expect(lines[0]!.error).toEqual({ name: 'TypeError', message: 'boom' });
  });
});
