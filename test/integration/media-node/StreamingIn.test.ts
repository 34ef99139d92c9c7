// Streaming-ins (issue #14) on a real worker and real ffmpeg: an RTMP source on a real RTMP
// server (node-media-server, fed by an ffmpeg encoder) pulled into the room as one publication of
// H.264 + opus that decodes (recorded and read back); the source stopping and starting again is
// a reconnect; the URL's credentials never reach a log.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineHandlers } from '../../../media-node/commands/handlers/pipelines.ts';
import { FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import { type Recorder, recorderKind } from '../../../media-node/recording/Recorder.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import { streamingInKind } from '../../../media-node/streaming/StreamingIn.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { NodeCommandSchema } from '../../../shared/protocol/commands.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { startRtmpServer } from '../../harness/rtmpServer.ts';

const run = promisify(execFile);
const lines: string[] = [];
const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
const next = (emitter: EventEmitter, event: string, ms = 20_000) =>
  once(emitter, event, { signal: AbortSignal.timeout(ms) });
const dir = mkdtempSync(join(tmpdir(), 'tessera-stream-in-'));
const SECRET = `pw-${randomUUID().slice(0, 8)}`;

/** An encoder pushing a moving picture and a tone to the RTMP server, as a camera or OBS would. */
const encoder = (url: string) =>
  new FfmpegProcess({
    args: [
      ...[
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=30',
        '-f',
        'lavfi',
        '-i',
        'sine=f=440:sample_rate=48000',
      ],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-c:a', 'aac'],
      ...['-f', 'flv', url],
    ],
  });

describe('streaming-in on a real worker: an RTMP source pulled into the room', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    pipelines = new Pipelines({
      rooms,
      kinds: { 'stream-in': streamingInKind(), record: recorderKind(dir) },
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
    let source = encoder(server.url('live/cam'));
    try {
      const room = await rooms.open(`svc/in-${Date.now()}`);
      // What the node is given: the URL with credentials (node-media-server ignores the query).
      const url = `${server.url('live/cam')}?token=${SECRET}`;
      await new Promise((r) => setTimeout(r, 1500)); // the encoder has connected
      const command = NodeCommandSchema.parse({
        id: randomUUID(),
        issuedAt: new Date().toISOString(),
        roomId: room.id,
        type: 'pipeline.start',
        pipelineId: 'in-1',
        kind: 'stream-in',
        params: { protocol: 'rtmp', publication: 'cam-pub' },
        source: { url },
      });
      await pipelineHandlers(pipelines)['pipeline.start'](
        command as Extract<typeof command, { type: 'pipeline.start' }>,
      );
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
      const record = async (id: string) => {
        const start = NodeCommandSchema.parse({
          id: randomUUID(),
          issuedAt: new Date().toISOString(),
          roomId: room.id,
          type: 'pipeline.start',
          pipelineId: id,
          kind: 'record',
          input: { streamId: 'cam-pub' },
          with: [{ streamId: 'cam-pub' }],
          params: { container: 'mkv', kinds: 'video+audio' },
        });
        await pipelineHandlers(pipelines)['pipeline.start'](
          start as Extract<typeof start, { type: 'pipeline.start' }>,
        );
        const recorder = pipelines.get(id) as Recorder;
        await next(recorder, 'started');
        await new Promise((r) => setTimeout(r, 3000));
        recorder.close('stopped');
        const info = await recorder.finished;
        const { stdout } = await run('ffprobe', [
          ...[
            '-v',
            'error',
            '-count_frames',
            '-show_entries',
            'stream=codec_name,nb_read_frames',
            '-of',
            'json',
          ],
          info.files[0]!,
        ]);
        return (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams;
      };
      const first = await record('rec-1');
      console.log(`[streaming-in] recorded ${JSON.stringify(first)}`);
      expect(first.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
      expect(Number(first.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);

      // The source stops: the run ends; the source comes back: the same publication flows again.
      await source.close(1000);
      await next(pipeline, 'crashed', 20_000);
      source = encoder(server.url('live/cam'));
      const [{ restarts }] = (await next(pipeline, 'started', 30_000)) as [{ restarts: number }];
      expect(restarts).toBeGreaterThan(0);
      expect(tracks()).toEqual(['audio', 'video']);
      const again = await record('rec-2');
      expect(Number(again.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);

      expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
      pipeline.close('stopped');
      room.close();
    } finally {
      await source.close(500);
      await server.close();
    }
  }, 120_000);
});
