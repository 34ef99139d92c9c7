import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { machine } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingDependencyError } from '../../shared/errors.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface WorkerBinaryStatus {
  path: string;
  /** What scripts/build-mediasoup-worker.sh would build for this checkout. */
  expectedKey: string;
  /** What the binary in place was built as (its stamp file), if anything. */
  installedKey: string | undefined;
  fresh: boolean;
}

function mediasoupPackageDir(): string {
  // mediasoup's exports hide package.json; its entry is <package>/node/lib/index.js.
  const entry = createRequire(import.meta.url).resolve('mediasoup');
  return join(dirname(entry), '..', '..');
}

function platformKey(): string {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const field = (name: string) => osRelease.match(new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm'))?.[1] ?? '';
  return `${machine()}-${field('ID')}${field('VERSION_ID')}`;
}

/** Same files, same order and same digest as the RECIPE line of scripts/build-mediasoup-worker.sh. */
function recipeHash(): string {
  const files = [
    'scripts/build-mediasoup-worker.sh',
    ...readdirSync(join(repoRoot, 'scripts/mediasoup')).map((f) => `scripts/mediasoup/${f}`),
  ].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(join(repoRoot, f)));
  return hash.digest('hex').slice(0, 16);
}

export function workerBinaryStatus(): WorkerBinaryStatus {
  const pkgDir = mediasoupPackageDir();
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version as string;
  const path = join(pkgDir, 'worker', 'out', 'Release', 'mediasoup-worker');
  const stamp = `${path}.tessera-build`;
  const expectedKey = `mediasoup-worker-${version}-${platformKey()}-${recipeHash()}`;
  const installedKey = existsSync(path) && existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
  return { path, expectedKey, installedKey, fresh: installedKey === expectedKey };
}

/**
 * Fails fast, with the fix in the message, when the worker mediasoup would start is missing
 * or was built from another recipe. An explicit MEDIASOUP_WORKER_BIN is the operator's choice
 * and only has to exist.
 */
export function assertWorkerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.MEDIASOUP_WORKER_BIN;
  if (override) {
    if (!existsSync(override)) {
      throw new MissingDependencyError(`MEDIASOUP_WORKER_BIN points at a missing file: ${override}`);
    }
    return override;
  }
  const status = workerBinaryStatus();
  if (!status.fresh) {
    const state = status.installedKey ? `stale (built as ${status.installedKey})` : 'missing';
    throw new MissingDependencyError(
      `mediasoup worker ${state}; expected ${status.expectedKey}. Run: bash scripts/build-mediasoup-worker.sh`,
      { path: status.path },
    );
  }
  return status.path;
}
