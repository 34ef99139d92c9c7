import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FFMPEG_MALLOC_ENV, FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { rgbToYuv, yuvFrameSize } from '../../../media-node/mcu/canvas.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ffmpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FfmpegProcess', () => {
  it('reads raw frames from a Unix socket ffmpeg listens on, over a stale socket file, byte for byte', async () => {
    const path = join(dir, 'frames.sock');
    // What a SIGKILLed run leaves behind: ffmpeg could not bind over it.
    writeFileSync(path, '');
    const frames = 12;
    const size = yuvFrameSize(64, 48);
    const chunks: Buffer[] = [];
    const process = new FfmpegProcess({
      args: [
        ...['-f', 'lavfi', '-i', 'color=c=0xff0000:s=64x48:r=30', '-frames:v', String(frames)],
        ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-listen', '1', `unix:${path}`],
      ],
      stdout: 'raw',
      rawSocket: path,
    });
    // Chunks are views of one reused buffer: copied at once, as a frame assembler does.
    process.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
    const exit = await process.exited();
    expect(exit.code, process.stderrTail).toBe(0);
    // The socket's last bytes may still be on their way when the exit is seen.
    const received = () => chunks.reduce((n, c) => n + c.length, 0);
    for (let waited = 0; received() < frames * size && waited < 2000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(frames * size);
    const [y] = rgbToYuv({ r: 255, g: 0, b: 0 });
    // Every frame's luma is the colour's (±2 for ffmpeg's rounding), not another run's bytes.
    for (let f = 0; f < frames; f++) expect(Math.abs(all[f * size + 100]! - y)).toBeLessThanOrEqual(2);
  });
});

describe('FfmpegProcess memory', () => {
  it('runs ffmpeg with glibc malloc settings that keep per-frame buffers in the heap', async () => {
    const ffmpeg = new FfmpegProcess({
      // A mixer encoder's input (a fresh 1.4 MB packet per 720p canvas), kept alive by its open stdin.
      args: [
        ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '1280x720', '-r', '30', '-i', 'pipe:0'],
        ...['-f', 'null', '-'],
      ],
      stdin: 'pipe',
    });
    // The page-fault cost these avoid shows under real-time pacing only, and not on every run
    // (glibc's dynamic mmap threshold): bench/mcu measures it; here, that ffmpeg gets them.
    const environ = readFileSync(`/proc/${ffmpeg.pid}/environ`, 'utf8').split('\0');
    ffmpeg.stdin!.end();
    expect((await ffmpeg.exited()).code, ffmpeg.stderrTail).toBe(0);
    for (const [name, value] of Object.entries(FFMPEG_MALLOC_ENV))
      expect(environ).toContain(`${name}=${value}`);
    // Buffers up to 32 MiB (a 4K canvas is 12 MB) come from the heap, which is never trimmed.
    expect(Number(FFMPEG_MALLOC_ENV.MALLOC_MMAP_THRESHOLD_)).toBeGreaterThanOrEqual(yuvFrameSize(3840, 2160));
  });
});
