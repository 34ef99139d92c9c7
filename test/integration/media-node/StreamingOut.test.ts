// Streaming-outs (issue #14) on a real worker and real ffmpeg: a room's VP8 + opus tracks pushed
// as H.264 + AAC to a real RTMP server (node-media-server), read back by ffprobe and decoded;
// the server going away and coming back is a reconnect; the stream key never reaches a log.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipelineHandlers } from '../../../media-node/commands/handlers/pipelines.ts';
import { FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import { streamingOutKind } from '../../../media-node/streaming/StreamingOut.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { NodeCommandSchema } from '../../../shared/protocol/commands.ts';
import { startHttpOrigin } from '../../harness/httpOrigin.ts';
import { publishLavfi } from '../../harness/lavfiSource.ts';
import { freePort } from '../../harness/ports.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { startRtmpServer } from '../../harness/rtmpServer.ts';

const run = promisify(execFile);
const lines: string[] = [];
const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
const next = (emitter: EventEmitter, event: string, ms = 20_000) =>
  once(emitter, event, { signal: AbortSignal.timeout(ms) });
const KEY = `secret-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'tessera-stream-out-'));

/** What an RTMP player gets: the codecs, and frames decoded in `seconds`. */
async function play(url: string, seconds: number) {
  const probed = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', url],
    {
      timeout: 15_000,
    },
  );
  const codecs = (JSON.parse(probed.stdout) as { streams: { codec_name: string }[] }).streams
    .map((s) => s.codec_name)
    .sort();
  const decoded = await run(
    'ffmpeg',
    ['-v', 'error', '-stats', '-i', url, '-t', String(seconds), '-map', '0:v', '-f', 'null', '-'],
    {
      timeout: 30_000,
    },
  );
  const frames = Number([...decoded.stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1] ?? 0);
  return { codecs, frames };
}

describe('streaming-out on a real worker: pushed to a real RTMP server', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;
  const senders: FfmpegProcess[] = [];

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    pipelines = new Pipelines({
      rooms,
      kinds: { 'stream-out': streamingOutKind() },
      publisher: roomStreamPublisher,
      logger,
      restart: { baseMs: 200, maxMs: 500 },
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

  it('VP8 + opus pushed as H.264 + AAC that a player decodes; a server that goes and comes back is reconnected; the key stays out of the logs', async () => {
    let server = await startRtmpServer();
    try {
      const room = await rooms.open(`svc/out-${Date.now()}`);
      const video = await publishLavfi(room, senders, {
        owner: 'p1',
        kind: 'video',
        codec: 'vp8',
        lavfi: 'testsrc2=size=320x240:rate=30',
      });
      const audio = await publishLavfi(room, senders, {
        owner: 'p1',
        kind: 'audio',
        lavfi: 'sine=f=440:sample_rate=48000',
      });
      const url = server.url(`live/${KEY}`);
      const command = NodeCommandSchema.parse({
        id: randomUUID(),
        issuedAt: new Date().toISOString(),
        roomId: room.id,
        type: 'pipeline.start',
        pipelineId: 'out-1',
        kind: 'stream-out',
        input: { streamId: video.producer.id },
        with: [{ streamId: audio.producer.id }],
        params: { protocol: 'rtmp', kinds: 'video+audio', videoKbps: 800 },
        output: { url },
      });
      await pipelineHandlers(pipelines)['pipeline.start'](
        command as Extract<typeof command, { type: 'pipeline.start' }>,
      );
      const pipeline = pipelines.get('out-1')!;
      await next(pipeline, 'started');
      const first = await play(url, 2);
      console.log(`[streaming-out] first ${JSON.stringify(first)}`);
      expect(first.codecs).toEqual(['aac', 'h264']);
      expect(first.frames).toBeGreaterThan(20);

      // The server goes away: ffmpeg's push fails, and it is tried again until the server is back.
      const { ports } = server;
      await server.close();
      await next(pipeline, 'crashed');
      // Down for a while: the reconnects meanwhile are refused (ffmpeg names the URL in that error).
      await next(pipeline, 'crashed', 10_000);
      server = await startRtmpServer(ports);
      const [{ restarts }] = (await next(pipeline, 'started', 30_000)) as [{ restarts: number }];
      expect(restarts).toBeGreaterThan(0);
      const again = await play(url, 2);
      console.log(`[streaming-out] after the server came back ${JSON.stringify(again)}`);
      expect(again.frames).toBeGreaterThan(20);
      expect(pipeline.closed).toBe(false);

      // The crash was logged (with ffmpeg's stderr), never with the URL's stream key.
      expect(lines.some((l) => l.includes('pipeline ffmpeg exited'))).toBe(true);
      expect(lines.filter((l) => l.includes(KEY))).toEqual([]);
      pipeline.close('stopped');
      room.close();
    } finally {
      await server.close();
    }
  }, 90_000);

  it('pushes to an RTSP server (ANNOUNCE/RECORD over TCP): what it receives holds H.264 + AAC that decode', async () => {
    // ffmpeg as the RTSP server: it takes one publisher and writes what arrives into a file.
    const port = await freePort();
    const received = join(dir, 'rtsp-received.mkv');
    const sink = new FfmpegProcess({
      args: [
        ...['-rtsp_flags', 'listen', '-timeout', '20', '-i', `rtsp://127.0.0.1:${port}/live`],
        ...['-c', 'copy', '-f', 'matroska', '-y', received],
      ],
    });
    await new Promise((r) => setTimeout(r, 500)); // listening
    const room = await rooms.open(`svc/out-rtsp-${Date.now()}`);
    const video = await publishLavfi(room, senders, {
      owner: 'p1',
      kind: 'video',
      codec: 'vp8',
      lavfi: 'testsrc2=size=320x240:rate=30',
    });
    const audio = await publishLavfi(room, senders, {
      owner: 'p1',
      kind: 'audio',
      lavfi: 'sine=f=440:sample_rate=48000',
    });
    const command = NodeCommandSchema.parse({
      id: randomUUID(),
      issuedAt: new Date().toISOString(),
      roomId: room.id,
      type: 'pipeline.start',
      pipelineId: 'out-rtsp',
      kind: 'stream-out',
      input: { streamId: video.producer.id },
      with: [{ streamId: audio.producer.id }],
      params: { protocol: 'rtsp', kinds: 'video+audio', videoKbps: 800 },
      output: { url: `rtsp://127.0.0.1:${port}/live` },
    });
    await pipelineHandlers(pipelines)['pipeline.start'](
      command as Extract<typeof command, { type: 'pipeline.start' }>,
    );
    const pipeline = pipelines.get('out-rtsp')!;
    await next(pipeline, 'started');
    await new Promise((r) => setTimeout(r, 3000));
    pipeline.close('stopped');
    // The publisher's TEARDOWN ends the server's input: it finishes its file.
    const exit = await sink.exited();
    expect(exit.code, sink.stderrTail.slice(-400)).toBe(0);
    const { stdout } = await run('ffprobe', [
      ...[
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,nb_read_frames',
        '-of',
        'json',
        received,
      ],
    ]);
    const streams = (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames: string }[] })
      .streams;
    console.log(`[streaming-out] rtsp ${JSON.stringify(streams)}`);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(streams.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);
    room.close();
  }, 60_000);

  for (const [protocol, playlist] of [
    ['hls', 'index.m3u8'],
    ['dash', 'manifest.mpd'],
  ] as const)
    it(`uploads ${protocol.toUpperCase()} to an HTTP origin (PUT): a player reads H.264 + AAC from it and decodes`, async () => {
      const origin = await startHttpOrigin();
      try {
        const room = await rooms.open(`svc/out-${protocol}-${Date.now()}`);
        const video = await publishLavfi(room, senders, {
          owner: 'p1',
          kind: 'video',
          codec: 'vp8',
          lavfi: 'testsrc2=size=320x240:rate=30',
        });
        const audio = await publishLavfi(room, senders, {
          owner: 'p1',
          kind: 'audio',
          lavfi: 'sine=f=440:sample_rate=48000',
        });
        const url = origin.url(`live/${playlist}`);
        const command = NodeCommandSchema.parse({
          id: randomUUID(),
          issuedAt: new Date().toISOString(),
          roomId: room.id,
          type: 'pipeline.start',
          pipelineId: `out-${protocol}`,
          kind: 'stream-out',
          input: { streamId: video.producer.id },
          with: [{ streamId: audio.producer.id }],
          params: { protocol, kinds: 'video+audio', videoKbps: 800, segmentSeconds: 1, windowSize: 4 },
          output: { url },
        });
        await pipelineHandlers(pipelines)['pipeline.start'](
          command as Extract<typeof command, { type: 'pipeline.start' }>,
        );
        const pipeline = pipelines.get(`out-${protocol}`)!;
        await next(pipeline, 'started');
        // A few segments uploaded, then played from the origin like a CDN's.
        for (let i = 0; i < 100 && origin.uploads.length < 6; i++)
          await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 2000));
        expect(origin.uploads.every((u) => u.method === 'PUT')).toBe(true);
        const played = await play(url, 2);
        console.log(
          `[streaming-out] ${protocol} ${JSON.stringify({ ...played, uploads: origin.uploads.length })}`,
        );
        expect(played.codecs).toEqual(['aac', 'h264']);
        expect(played.frames).toBeGreaterThan(20);
        pipeline.close('stopped');
        room.close();
      } finally {
        await origin.close();
      }
    }, 60_000);
});
