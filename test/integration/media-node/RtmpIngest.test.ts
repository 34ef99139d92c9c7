// RTMP push ingest (issue #14) on a real worker and real ffmpeg: an ffmpeg encoder pushing with
// the ingest's stream key becomes one publication of H.264 + opus that decodes; a wrong key is
// refused before any media flows; the encoder stopping and coming back is the same stream; the
// key never reaches a log.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import { recorderKind } from '../../../media-node/recording/Recorder.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import { type RtmpIngest, rtmpIngestKind } from '../../../media-node/streaming/RtmpIngest.ts';
import { RtmpIngestServer } from '../../../media-node/streaming/RtmpIngestServer.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { next, recordAndProbe, rtmpEncoder, startPipeline } from '../../harness/pipelineProbe.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';

const lines: string[] = [];
const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
const dir = mkdtempSync(join(tmpdir(), 'tessera-rtmp-in-'));
const KEY = randomBytes(24).toString('base64url');

describe('RTMP push ingest on a real worker: an encoder with the stream key becomes a publication', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;
  let server: RtmpIngestServer;

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    server = new RtmpIngestServer({ logger });
    await server.listen(0, '127.0.0.1');
    pipelines = new Pipelines({
      rooms,
      kinds: { 'rtmp-in': rtmpIngestKind(server), record: recorderKind(dir) },
      publisher: roomStreamPublisher,
      logger,
      restart: { baseMs: 200, maxMs: 500 },
    });
  }, 30_000);
  afterAll(() => {
    pipelines?.close();
    server?.close();
    rooms?.close();
    pool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong key; takes the right one (H.264 + opus that decode); an encoder that comes back is the same stream', async () => {
    const room = await rooms.open(`svc/ingest-${Date.now()}`);
    await startPipeline(pipelines, {
      roomId: room.id,
      pipelineId: 'ingest-1',
      kind: 'rtmp-in',
      params: { publication: 'obs', streamKey: KEY },
    });
    const ingest = pipelines.get('ingest-1') as RtmpIngest;
    const url = (key: string) => `rtmp://127.0.0.1:${server.port}/live/${key}`;
    const tracks = () =>
      room
        .producersOf('obs')
        .map((t) => t.announcement.kind)
        .sort();

    // A wrong key (one character off): the connection closes, the encoder gives up, nothing flows.
    const wrong = rtmpEncoder(url(`${KEY.slice(0, -1)}${KEY.endsWith('A') ? 'B' : 'A'}`));
    const refused = await wrong.exited();
    expect(refused.code, 'the encoder with a wrong key fails').not.toBe(0);
    expect(ingest.publishing).toBe(false);
    expect(tracks()).toEqual([]);
    expect(lines.some((l) => l.includes('unknown stream key'))).toBe(true);

    let encoder = rtmpEncoder(url(KEY));
    try {
      await next(ingest, 'started');
      for (let i = 0; i < 50 && tracks().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(tracks()).toEqual(['audio', 'video']);
      expect(room.producersOf('obs')[0]!.origin).toMatchObject({
        kind: 'pipeline',
        pipelineId: 'ingest-1',
        pipelineKind: 'rtmp-in',
      });
      // A second encoder with the same key while the first publishes: refused.
      const second = rtmpEncoder(url(KEY));
      expect((await second.exited()).code).not.toBe(0);

      const first = await recordAndProbe(pipelines, room.id, 'obs');
      console.log(`[rtmp-in] recorded ${JSON.stringify(first)}`);
      expect(first.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
      expect(Number(first.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);

      // The encoder stops (OBS's "stop streaming") and starts again: the same publication flows.
      const ids = room.producersOf('obs').map((t) => t.announcement.id);
      await encoder.close(1000);
      for (let i = 0; i < 50 && ingest.publishing; i++) await new Promise((r) => setTimeout(r, 100));
      expect(ingest.publishing).toBe(false);
      encoder = rtmpEncoder(url(KEY));
      await next(ingest, 'started', 30_000);
      expect(room.producersOf('obs').map((t) => t.announcement.id)).toEqual(ids);
      const again = await recordAndProbe(pipelines, room.id, 'obs');
      expect(Number(again.find((s) => s.codec_name === 'h264')!.nb_read_frames)).toBeGreaterThan(30);

      expect(lines.filter((l) => l.includes(KEY))).toEqual([]);
      ingest.close('stopped');
      expect(tracks()).toEqual([]);
      room.close();
    } finally {
      await encoder.close(500);
    }
  }, 120_000);
});
