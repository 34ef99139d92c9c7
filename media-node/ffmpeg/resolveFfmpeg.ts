import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { MissingDependencyError } from '../../shared/errors.ts';

export interface FfmpegCandidate {
  source: 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';
  path: string | undefined;
}

export interface ResolvedFfmpeg {
  path: string;
  source: FfmpegCandidate['source'];
  version: string;
}

/** ffmpeg-static is optional: its install downloads a binary, which fails offline. */
function ffmpegStaticPath(): string | undefined {
  try {
    const path = createRequire(import.meta.url)('ffmpeg-static') as string | null;
    return path ?? undefined;
  } catch {
    return undefined;
  }
}

export function ffmpegCandidates(ffmpegPath: string | undefined): FfmpegCandidate[] {
  return [
    { source: 'FFMPEG_PATH', path: ffmpegPath },
    { source: 'ffmpeg-static', path: ffmpegStaticPath() },
    { source: 'PATH', path: 'ffmpeg' },
  ];
}

function probe(path: string): string | { failure: string } {
  const run = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) return { failure: (run.error as NodeJS.ErrnoException).code ?? run.error.message };
  if (run.status !== 0) return { failure: `exit ${run.status}` };
  return run.stdout.split('\n')[0] ?? 'ffmpeg';
}

/**
 * The one place that decides which ffmpeg Tessera runs: FFMPEG_PATH, else ffmpeg-static's
 * binary if it was installed, else `ffmpeg` on PATH. The first that runs wins.
 */
export function resolveFfmpeg(ffmpegPath: string | undefined = process.env.FFMPEG_PATH): ResolvedFfmpeg {
  const tried: string[] = [];
  for (const candidate of ffmpegCandidates(ffmpegPath)) {
    if (!candidate.path) {
      tried.push(`${candidate.source}: not set`);
      continue;
    }
    const result = probe(candidate.path);
    if (typeof result === 'string')
      return { path: candidate.path, source: candidate.source, version: result };
    tried.push(`${candidate.source} (${candidate.path}): ${result.failure}`);
  }
  throw new MissingDependencyError(
    `no working ffmpeg: set FFMPEG_PATH, install ffmpeg-static, or put ffmpeg on PATH (tried ${tried.join('; ')})`,
    { tried },
  );
}

let cached: ResolvedFfmpeg | undefined;
/** resolveFfmpeg() from the environment, probed once per process. */
export function ffmpeg(): ResolvedFfmpeg {
  cached ??= resolveFfmpeg();
  return cached;
}
