// The recording pipeline (issue #14, recordings) on a real worker, real ffmpeg and ffprobe: a
// room's tracks copied into mkv and fragmented mp4; a SIGKILL mid-recording leaves a file that
// decodes up to about its last second; a container that cannot hold a codec is refused.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipeline_ } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipelineHandlers } from '../../../media-node/commands/handlers/pipelines.ts';
import type { FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { ViewMixers } from '../../../media-node/mcu/ViewMixers.ts';
import type { Pipeline } from '../../../media-node/pipelines/Pipeline.ts';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import { type Recorder, recorderKind } from '../../../media-node/recording/Recorder.ts';
import type { Room } from '../../../media-node/sfu/Room.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { S3BlobStore } from '../../../shared/adapters/s3/S3BlobStore.ts';
import { createLogger } from '../../../shared/logger.ts';
import { NodeCommandSchema } from '../../../shared/protocol/commands.ts';
import { mixedStreamId, ViewsSchema } from '../../../shared/protocol/mcu.ts';
import { publishLavfi } from '../../harness/lavfiSource.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { startS3 } from '../../harness/s3.ts';

const run = promisify(execFile);
const logger = createLogger({ level: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'tessera-recordings-'));

/** The next `event` of a pipeline (its arguments), failing after `ms`. */
const next = (emitter: EventEmitter, event: string, ms = 20_000) =>
  once(emitter, event, { signal: AbortSignal.timeout(ms) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async <T>(probe: () => T, accept: (v: T) => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!accept(probe()) && Date.now() < deadline) await sleep(100);
  return probe();
};

/** What a player finds in a file: its streams' codecs, and the last video and audio timestamps. */
async function probe(file: string) {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-show_entries', 'stream=codec_name,codec_type:packet=pts_time,stream_index'],
    ...['-of', 'json', file],
  ]);
  const json = JSON.parse(stdout) as {
    streams: { codec_name: string; codec_type: string }[];
    packets: { stream_index: number; pts_time?: string }[];
  };
  const last = (type: string) => {
    const index = json.streams.findIndex((s) => s.codec_type === type);
    const times = json.packets
      .filter((p) => p.stream_index === index && p.pts_time !== undefined)
      .map((p) => Number(p.pts_time));
    return times.length ? Math.max(...times) - Math.min(...times) : 0;
  };
  return {
    codecs: json.streams.map((s) => s.codec_name).sort(),
    videoSeconds: last('video'),
    audioSeconds: last('audio'),
  };
}

/** Frames a decoder gets out of the file (it must decode, not just parse). */
async function decodedFrames(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    '-v',
    'error',
    '-stats',
    '-i',
    file,
    '-map',
    '0:v',
    '-f',
    'null',
    '-',
  ]);
  return Number([...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1] ?? 0);
}

describe('recordings on a real worker: room tracks copied into files that survive a crash', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;
  const senders: FfmpegProcess[] = [];

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    pipelines = new Pipelines({
      rooms,
      kinds: { record: recorderKind(dir) },
      publisher: roomStreamPublisher,
      logger,
      restart: { baseMs: 100, maxMs: 400 },
    });
  }, 30_000);

  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.close(300)));
  });

  afterAll(() => {
    pipelines?.close();
    rooms?.close();
    pool?.close();
  });

  /** A room (new, or the one given) with a participant publishing a moving picture and a tone. */
  async function roomWith(codec: 'vp8' | 'h264', existing?: Room) {
    const room = existing ?? (await rooms.open(`svc/rec-${codec}-${Date.now()}`));
    const video = await publishLavfi(room, senders, {
      owner: 'p1',
      kind: 'video',
      codec,
      lavfi: 'testsrc2=size=320x240:rate=15',
    });
    const audio = await publishLavfi(room, senders, {
      owner: 'p1',
      kind: 'audio',
      lavfi: 'sine=f=440:sample_rate=48000',
    });
    return { room, video: video.producer.id, audio: audio.producer.id };
  }

  /** When the last recording was asked for. */
  let requestedAt = 0;
  /** Starts a recording as the control plane does: a `pipeline.start` command (video, with the audio). */
  async function record(roomId: string, id: string, [video, audio]: string[], container: string) {
    requestedAt = performance.now();
    const command = NodeCommandSchema.parse({
      id: randomUUID(),
      issuedAt: new Date().toISOString(),
      roomId,
      type: 'pipeline.start',
      pipelineId: id,
      kind: 'record',
      input: { streamId: video },
      with: [{ streamId: audio }],
      params: { container },
    });
    await pipelineHandlers(pipelines)['pipeline.start'](
      command as Extract<typeof command, { type: 'pipeline.start' }>,
    );
    const pipeline = pipelines.get(id) as Recorder;
    expect(pipeline.inputs).toEqual([video, audio]);
    await next(pipeline, 'started');
    return pipeline;
  }

  /** Stops a recording the way a user does and waits for ffmpeg, which exits by itself (trailer written). */
  async function stop(pipeline: Pipeline) {
    const ffmpeg = pipeline.process!;
    pipeline.close('stopped');
    expect((await ffmpeg.exited()).signal, ffmpeg.stderrTail.slice(-500)).toBeNull();
  }

  for (const [codec, container, expected] of [
    ['vp8', 'mkv', ['opus', 'vp8']],
    ['h264', 'mp4', ['h264', 'opus']],
  ] as const)
    it(`${codec} + opus into ${container}: both tracks, the recorded length (±1 s), a file that decodes`, async () => {
      const { room, video, audio } = await roomWith(codec);
      const pipeline = await record(room.id, `rec-${codec}`, [video, audio], container);
      await sleep(4000);
      await stop(pipeline);
      // What the recording reports having written (ffmpeg's output time), and the wall clock's
      // bound: the file holds no more than the time since the request.
      const info = pipeline.info;
      const seconds = info.durationMs / 1000;
      const window = (performance.now() - requestedAt) / 1000;
      expect(info.container).toBe(container);
      expect(info.files).toEqual([join(dir, `rec-${codec}.${container}`)]);
      expect(info.bytes).toBeGreaterThan(10_000);
      expect(info.durationMs).toBeGreaterThan(2000);
      const file = await probe(info.files[0]!);
      expect(file.codecs).toEqual(expected);
      expect(Math.abs(file.videoSeconds - seconds), JSON.stringify(file)).toBeLessThanOrEqual(1);
      expect(Math.abs(file.audioSeconds - seconds), JSON.stringify(file)).toBeLessThanOrEqual(1);
      expect(file.videoSeconds).toBeLessThanOrEqual(window);
      expect(await decodedFrames(info.files[0]!)).toBeGreaterThan(30);
      room.close();
    }, 60_000);

  for (const container of ['mkv', 'mp4'] as const)
    it(`a SIGKILLed ${container} recorder leaves a file that decodes up to its last second, and records on into a new part`, async () => {
      const { room, video, audio } = await roomWith('h264');
      const pipeline = await record(room.id, `kill-${container}`, [video, audio], container);
      const started = performance.now();
      await sleep(4000);
      const first = pipeline.info.files[0]!;
      process.kill(pipeline.process!.pid!, 'SIGKILL');
      const seconds = (performance.now() - started) / 1000;
      // The registry restarts it: the next run writes the next part.
      await next(pipeline, 'started');
      expect(pipeline.info.files).toEqual([first, join(dir, `kill-${container}.1.${container}`)]);
      const file = await probe(first);
      expect(file.codecs).toEqual(['h264', 'opus']);
      // Up to its last flushed second (clusters and fragments of 1 s), give or take a key frame.
      expect(file.videoSeconds, JSON.stringify(file)).toBeGreaterThanOrEqual(seconds - 2);
      expect(await decodedFrames(first)).toBeGreaterThan(20);
      await stop(pipeline);
      room.close();
    }, 60_000);

  it("a switch of sources (OWT's PATCH of `from`) finishes the part and records the new ones into the next; a codec the container cannot hold is refused", async () => {
    const { room, video, audio } = await roomWith('vp8');
    const other = await publishLavfi(room, senders, {
      owner: 'p2',
      kind: 'video',
      codec: 'vp8',
      lavfi: 'smptebars=size=320x240:rate=15',
    });
    const h264 = await publishLavfi(room, senders, {
      owner: 'p3',
      kind: 'video',
      codec: 'h264',
      lavfi: 'testsrc=size=320x240:rate=15',
    });
    const pipeline = await record(room.id, 'rec-switch', [video, audio], 'webm');
    await sleep(3000);
    // webm holds no H.264: refused, and the recording runs on as it was.
    await expect(pipeline.switchInputs([h264.producer.id, audio])).rejects.toThrow(/webm cannot hold/);
    expect(pipeline.inputs).toEqual([video, audio]);
    const first = pipeline.info.files[0]!;
    await pipeline.switchInputs([other.producer.id, audio]);
    expect(pipeline.inputs).toEqual([other.producer.id, audio]);
    await next(pipeline, 'started');
    await sleep(3000);
    await stop(pipeline);
    const { files } = pipeline.info;
    expect(files).toEqual([first, join(dir, 'rec-switch.1.webm')]);
    for (const file of files) {
      expect((await probe(file)).codecs).toEqual(['opus', 'vp8']);
      expect(await decodedFrames(file)).toBeGreaterThan(20);
    }
    room.close();
  }, 60_000);

  it("a view's mixed stream (H.264 video from the compositor, opus from the audio mixer) records into mp4", async () => {
    const mixers = new ViewMixers({ rooms, pipelines, logger });
    try {
      const room = await rooms.open(`svc/rec-mixed-${Date.now()}`);
      mixers.configure(
        room.id,
        ViewsSchema.parse([
          {
            label: 'common',
            video: { parameters: { resolution: { width: 320, height: 240 }, framerate: 15 } },
          },
        ]),
      );
      await roomWith('vp8', room);
      // The view's mixed tracks, once they are streams of the room.
      const mixedTracks = await until(
        () => room.streams().filter((s) => s.publication === mixedStreamId('common')),
        (tracks) => tracks.length === 2,
        20_000,
      );
      const video = mixedTracks.find((t) => t.kind === 'video')!.id;
      const audio = mixedTracks.find((t) => t.kind === 'audio')!.id;
      const pipeline = await record(room.id, 'rec-mixed', [video, audio], 'mp4');
      await sleep(4000);
      await stop(pipeline);
      const { files, durationMs } = pipeline.info;
      const file = await probe(files[0]!);
      expect(file.codecs).toEqual(['h264', 'opus']);
      expect(Math.abs(file.videoSeconds - durationMs / 1000), JSON.stringify(file)).toBeLessThanOrEqual(1);
      expect(await decodedFrames(files[0]!)).toBeGreaterThan(20);
      room.close();
    } finally {
      mixers.close();
    }
  }, 60_000);

  it('with S3 as the blob store, each part is uploaded once its run ends and the spooled file removed', async () => {
    const bucket = 'tessera-recordings';
    const s3 = await startS3(bucket);
    const spool = mkdtempSync(join(tmpdir(), 'tessera-spool-'));
    const blobs = new S3BlobStore(s3.s3, bucket);
    const uploading = new Pipelines({
      rooms,
      kinds: { record: recorderKind(spool, blobs) },
      publisher: roomStreamPublisher,
      logger,
    });
    try {
      const { room, video, audio } = await roomWith('vp8');
      const pipeline = uploading.start({
        id: 'rec-s3',
        kind: 'record',
        roomId: room.id,
        inputs: [video, audio],
        params: { container: 'mkv' },
      }) as Recorder;
      await next(pipeline, 'started');
      await sleep(3000);
      await stop(pipeline);
      const stored = await until(
        () => pipeline.info.stored,
        (s) => s.length === 1,
      );
      expect(stored).toEqual([
        { key: 'rec-s3.mkv', bytes: expect.any(Number), location: `s3://${bucket}/rec-s3.mkv` },
      ]);
      expect(stored[0]!.bytes).toBeGreaterThan(10_000);
      expect(await blobs.head('rec-s3.mkv')).toEqual({ bytes: stored[0]!.bytes });
      expect(existsSync(join(spool, 'rec-s3.mkv'))).toBe(false);
      expect(pipeline.info.bytes).toBe(stored[0]!.bytes);
      // What S3 holds is the recording: both tracks, and it decodes.
      const copy = join(spool, 'copy.mkv');
      await pipeline_(await (await blobs.get('rec-s3.mkv'))!, createWriteStream(copy));
      expect((await probe(copy)).codecs).toEqual(['opus', 'vp8']);
      expect(await decodedFrames(copy)).toBeGreaterThan(20);
      room.close();
    } finally {
      uploading.close();
      await s3.close();
    }
  }, 60_000);

  it('a container that cannot hold a codec without re-encoding is refused with a clear reason', async () => {
    const { room, video } = await roomWith('h264');
    const pipeline = pipelines.start({
      id: 'rec-webm-h264',
      kind: 'record',
      roomId: room.id,
      inputs: [video],
      params: { container: 'webm' },
    });
    const [failed] = (await next(pipeline, 'failed')) as [{ reason: string }];
    expect(failed.reason).toMatch(/webm cannot hold video\/h264/);
    expect(() =>
      pipelines.start({
        id: 'rec-bad',
        kind: 'record',
        roomId: room.id,
        inputs: [video],
        params: { container: 'avi' },
      }),
    ).toThrow(/invalid record params/);
    room.close();
  }, 30_000);
});
