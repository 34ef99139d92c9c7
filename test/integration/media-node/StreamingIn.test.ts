// Streaming-ins (issue #14) on a real worker and real ffmpeg: an RTMP source on a real RTMP
// server (node-media-server, fed by an ffmpeg encoder) pulled into the room as one publication of
// H.264 + opus that decodes (recorded and read back); the source stopping and starting again is
// a reconnect; the URL's credentials never reach a log.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import { recorderKind } from '../../../media-node/recording/Recorder.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import { streamingInKind } from '../../../media-node/streaming/StreamingIn.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { startHttpOrigin } from '../../harness/httpOrigin.ts';
import { hlsEncoder, next, recordAndProbe, rtmpEncoder, startPipeline } from '../../harness/pipelineProbe.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { startRtmpServer } from '../../harness/rtmpServer.ts';

const lines: string[] = [];
const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
const dir = mkdtempSync(join(tmpdir(), 'tessera-stream-in-'));
const SECRET = `pw-${randomUUID().slice(0, 8)}`;

describe('streaming-in on a real worker: an RTMP source pulled into the room', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    pipelines = new Pipelines({
      rooms,
      kinds: { 'stream-in': streamingInKind({ allowPrivateUrls: true }), record: recorderKind(dir) },
      publisher: roomStreamPublisher,
      logger,
      restart: { baseMs: 200, maxMs: 500 },
    });
  }, 30_000);
  afterAll(() => {
    pipelines?.close();
    rooms?.close();
    pool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('becomes one publication of H.264 + opus that decodes; a source that stops and comes back is reconnected', async () => {
    const server = await startRtmpServer();
    let source = rtmpEncoder(server.url('live/cam'));
    try {
      const room = await rooms.open(`svc/in-${Date.now()}`);
      // What the node is given: the URL with credentials (node-media-server ignores the query).
      const url = `${server.url('live/cam')}?token=${SECRET}`;
      await new Promise((r) => setTimeout(r, 1500)); // the encoder has connected
      await startPipeline(pipelines, {
        roomId: room.id,
        pipelineId: 'in-1',
        kind: 'stream-in',
        params: { protocol: 'rtmp', publication: 'cam-pub' },
        source: { url },
      });
      const pipeline = pipelines.get('in-1')!;
      await next(pipeline, 'started');
      const tracks = () =>
        room
          .producersOf('cam-pub')
          .map((t) => t.announcement.kind)
          .sort();
      for (let i = 0; i < 50 && tracks().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(tracks()).toEqual(['audio', 'video']);
      const origin = room.producersOf('cam-pub')[0]!.origin;
      expect(origin).toMatchObject({ kind: 'pipeline', pipelineId: 'in-1', pipelineKind: 'stream-in' });

      // What a subscriber gets decodes: the publication recorded for 3 s and read back.
      const record = () => recordAndProbe(pipelines, room.id, 'cam-pub');
      const first = await record();
      console.log(`[streaming-in] recorded ${JSON.stringify(first)}`);
      expect(first.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
      expect(Number(first.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);
      // Constrained baseline without B-frames: forwarded as it is, no encoder.
      expect(lines.filter((l) => l.includes('streaming-in video')).join()).toContain(
        'H.264 passed through (h264)',
      );
      expect(
        room.producersOf('cam-pub').find((t) => t.announcement.kind === 'video')!.producer.rtpParameters
          .codecs[0]!.parameters,
      ).toMatchObject({ 'profile-level-id': '42e01f' });

      // The source stops: the run ends; the source comes back: the same publication flows again.
      // Meanwhile the publication is inactive (its tracks paused), and active again with frames.
      const paused = () => room.producersOf('cam-pub').map((t) => t.announcement.paused);
      expect(paused()).toEqual([false, false]);
      await source.close(1000);
      await next(pipeline, 'crashed', 20_000);
      for (let i = 0; i < 20 && !paused().every(Boolean); i++) await new Promise((r) => setTimeout(r, 100));
      expect(paused()).toEqual([true, true]);
      source = rtmpEncoder(server.url('live/cam'));
      const [{ restarts }] = (await next(pipeline, 'started', 30_000)) as [{ restarts: number }];
      expect(restarts).toBeGreaterThan(0);
      expect(tracks()).toEqual(['audio', 'video']);
      for (let i = 0; i < 20 && paused().some(Boolean); i++) await new Promise((r) => setTimeout(r, 100));
      expect(paused()).toEqual([false, false]);
      const again = await record();
      expect(Number(again.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);

      expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
      pipeline.close('stopped');
      room.close();
    } finally {
      await source.close(500);
      await server.close();
    }
  }, 120_000);

  it('a video-only source (its FLV announces no audio track it sends) starts at once and comes back after a reconnect', async () => {
    const server = await startRtmpServer();
    let source = rtmpEncoder(server.url('live/mute'), '320x240', { audio: false });
    try {
      const room = await rooms.open(`svc/mute-${Date.now()}`);
      await new Promise((r) => setTimeout(r, 1500)); // the encoder has connected
      const startedAt = Date.now();
      await startPipeline(pipelines, {
        roomId: room.id,
        pipelineId: 'in-mute',
        kind: 'stream-in',
        params: { protocol: 'rtmp', publication: 'mute-pub', audio: false },
        source: { url: server.url('live/mute') },
      });
      const pipeline = pipelines.get('in-mute')!;
      // ffmpeg waited 5 s for the audio the FLV header announced, and the 4 s stall watchdog
      // ended every run before its first frame: it never started.
      await next(pipeline, 'started', 20_000);
      console.log(`[streaming-in] video-only source started in ${Date.now() - startedAt} ms`);
      expect(pipeline.restarts).toBe(0);
      const frames = async () =>
        Number((await recordAndProbe(pipelines, room.id, 'mute-pub', 2, 'video'))[0]!.nb_read_frames);
      expect(await frames()).toBeGreaterThan(20);
      await source.close(1000);
      await next(pipeline, 'crashed', 20_000);
      source = rtmpEncoder(server.url('live/mute'), '320x240', { audio: false });
      await next(pipeline, 'started', 30_000);
      expect(await frames()).toBeGreaterThan(20);
      pipeline.close('stopped');
      room.close();
    } finally {
      await source.close(500);
      await server.close();
    }
  }, 90_000);

  it('pulls a live HLS playlist through the guarded fetcher: H.264 + opus that decodes; a segment at a link-local address fails it at once', async () => {
    const origin = await startHttpOrigin();
    const source = hlsEncoder(origin.url('live/index.m3u8'));
    try {
      const room = await rooms.open(`svc/hls-${Date.now()}`);
      for (let i = 0; i < 100 && !origin.files.has('/live/index.m3u8'); i++)
        await new Promise((r) => setTimeout(r, 100));
      await startPipeline(pipelines, {
        roomId: room.id,
        pipelineId: 'in-hls',
        kind: 'stream-in',
        params: { protocol: 'hls', publication: 'hls-pub' },
        source: { url: `${origin.url('live/index.m3u8')}?token=${SECRET}` },
      });
      await next(pipelines.get('in-hls')!, 'started', 30_000);
      const probed = await recordAndProbe(pipelines, room.id, 'hls-pub');
      console.log(`[streaming-in] HLS recorded ${JSON.stringify(probed)}`);
      expect(probed.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
      expect(Number(probed.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);
      // x264 ultrafast is constrained baseline: forwarded as it is, from the segments' own SPS.
      expect(lines.filter((l) => l.includes('streaming-in video')).at(-1)).toContain(
        'H.264 passed through (h264)',
      );
      expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
      pipelines.get('in-hls')!.close('stopped');

      // A playlist naming a segment at the metadata address: refused where it connects, no retry.
      origin.files.set(
        '/evil.m3u8',
        Buffer.from(
          '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nhttp://169.254.169.254/latest/meta-data/a.ts\n',
        ),
      );
      await startPipeline(pipelines, {
        roomId: room.id,
        pipelineId: 'in-evil',
        kind: 'stream-in',
        params: { protocol: 'hls', publication: 'evil-pub' },
        source: { url: origin.url('evil.m3u8') },
      });
      const evil = pipelines.get('in-evil')!;
      const [{ reason }] = (await next(evil, 'failed', 10_000)) as [{ reason: string }];
      expect(reason).toMatch(/HLS source refused: .*link-local/);
      expect(evil.restarts).toBe(0);
      room.close();
    } finally {
      await source.close(500);
      await origin.close();
    }
  }, 90_000);

  it('into a room nobody has joined: the room opens for it and stays open while it runs, then closes when empty', async () => {
    // A node whose empty rooms close after 400 ms (30 s in production).
    const node = await roomsOnWorker(logger, 400);
    const own = new Pipelines({
      rooms: node.rooms,
      kinds: { 'stream-in': streamingInKind() },
      publisher: roomStreamPublisher,
      logger,
      restart: { baseMs: 200, maxMs: 500 },
    });
    const server = await startRtmpServer();
    // High profile with B-frames (OBS's default): re-encoded, WebRTC decoders do not reorder.
    const source = rtmpEncoder(server.url('live/lobby'), '320x240', { bFrames: true });
    try {
      const roomId = `svc/empty-${Date.now()}`;
      await new Promise((r) => setTimeout(r, 1500)); // the encoder has connected
      expect(node.rooms.get(roomId)).toBeUndefined();
      await startPipeline(own, {
        roomId,
        pipelineId: 'in-empty',
        kind: 'stream-in',
        params: { protocol: 'rtmp', publication: 'lobby-pub' },
        source: { url: server.url('live/lobby') },
      });
      const room = node.rooms.get(roomId)!;
      expect(room.peers.size).toBe(0);
      await next(own.get('in-empty')!, 'started');
      expect(lines.filter((l) => l.includes('streaming-in video')).at(-1)).toContain('re-encoded to H.264');
      // Ten graces later the room is still open, the stream in it.
      await new Promise((r) => setTimeout(r, 4000));
      expect(room.closed).toBe(false);
      expect(
        room
          .producersOf('lobby-pub')
          .map((t) => t.announcement.kind)
          .sort(),
      ).toEqual(['audio', 'video']);
      // Stopped: the room is empty and nothing holds it, so it closes after its grace.
      const closed = new Promise<number>((resolve) => {
        const at = Date.now();
        room.once('close', () => resolve(Date.now() - at));
      });
      own.stop('in-empty', roomId);
      const after = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
      console.log(`[streaming-in] the empty room closed ${after} ms after its streaming-in stopped`);
      expect(after).toBeGreaterThanOrEqual(300);
      expect(node.rooms.get(roomId)).toBeUndefined();
    } finally {
      own.close();
      await source.close(500);
      await server.close();
      node.rooms.close();
      node.pool.close();
    }
  }, 60_000);
});
