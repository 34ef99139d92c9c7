import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { assertWorkerBinary, workerBinaryStatus } from '../../media-node/workers/workerBinary.ts';
import { MissingDependencyError } from '../../shared/errors.ts';

describe('worker binary check', () => {
  it('expects the same build as scripts/build-mediasoup-worker.sh would make', () => {
    const scriptKey = execFileSync('bash', ['scripts/build-mediasoup-worker.sh', '--print-key'])
      .toString()
      .trim();
    expect(workerBinaryStatus().expectedKey).toBe(scriptKey);
    expect(scriptKey).toMatch(/^mediasoup-worker-3\.19\.3-[a-z0-9_]+-[a-z]+[0-9.]*-[0-9a-f]{16}$/);
  });

  it('rejects an explicit MEDIASOUP_WORKER_BIN that does not exist', () => {
    expect(() => assertWorkerBinary({ MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' })).toThrow(
      MissingDependencyError,
    );
  });

  it('accepts an explicit MEDIASOUP_WORKER_BIN that exists, without the recipe check', () => {
    expect(assertWorkerBinary({ MEDIASOUP_WORKER_BIN: process.execPath })).toBe(process.execPath);
  });
});
