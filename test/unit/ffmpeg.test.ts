import { afterEach, describe, expect, it } from 'vitest';
import { ffmpegCandidates, resolveFfmpeg } from '../../media-node/ffmpeg/resolveFfmpeg.ts';
import { MissingDependencyError } from '../../shared/errors.ts';

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

describe('resolveFfmpeg', () => {
  it('looks at FFMPEG_PATH, then ffmpeg-static, then PATH, in that order', () => {
    expect(ffmpegCandidates('/x/ffmpeg').map((c) => c.source)).toEqual([
      'FFMPEG_PATH',
      'ffmpeg-static',
      'PATH',
    ]);
    expect(ffmpegCandidates('/x/ffmpeg')[0]!.path).toBe('/x/ffmpeg');
  });

  it('prefers a working FFMPEG_PATH', () => {
    const resolved = resolveFfmpeg('/usr/bin/ffmpeg');
    expect(resolved.source).toBe('FFMPEG_PATH');
    expect(resolved.version).toMatch(/^ffmpeg version/);
  });

  it('falls past a broken FFMPEG_PATH to one that runs', () => {
    const resolved = resolveFfmpeg('/nonexistent/ffmpeg');
    expect(['ffmpeg-static', 'PATH']).toContain(resolved.source);
  });

  it('names all three places when none works', () => {
    process.env.PATH = '/nonexistent';
    let error: unknown;
    try {
      resolveFfmpeg('/nonexistent/ffmpeg');
    } catch (e) {
      error = e;
    }
    // ffmpeg-static may be installed with its binary on a machine with internet access.
    if (error === undefined) return expect(resolveFfmpeg('/nonexistent/ffmpeg').source).toBe('ffmpeg-static');
    expect(error).toBeInstanceOf(MissingDependencyError);
    const message = (error as Error).message;
    for (const place of ['FFMPEG_PATH', 'ffmpeg-static', 'PATH']) expect(message).toContain(place);
  });
});
