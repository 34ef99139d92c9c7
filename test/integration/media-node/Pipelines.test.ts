import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityReporter } from '../../../media-node/capacity/CapacityReporter.ts';
import { pipelineHandlers } from '../../../media-node/commands/handlers/pipelines.ts';
import { FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { sdpForRtpReceiver } from '../../../media-node/ffmpeg/sdp.ts';
import { transcoderKind } from '../../../media-node/mcu/Transcoder.ts';
import type { Pipeline } from '../../../media-node/pipelines/Pipeline.ts';
import { Pipelines, type PipelinesOptions } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import type { Room } from '../../../media-node/sfu/Room.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { MemoryNodeRegistry } from '../../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { ErrorCodes } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/logger.ts';
import { NodeCommandSchema } from '../../../shared/protocol/commands.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { freeUdpPortPair } from '../../harness/udp.ts';

const logger = createLogger({ level: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'tessera-pipelines-'));

const until = async <T>(probe: () => T | Promise<T>, accept: (v: T) => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
};
const once = <T>(emitter: { once(e: string, f: (v: T) => void): unknown }, event: string, ms = 20_000) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('pipelines on a real worker: a transcode of a room stream, produced back into the room', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  const senders: FfmpegProcess[] = [];

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(senders.map((s) => s.close(500)));
    rooms?.close();
    pool?.close();
  });

  const registry = (options: Partial<PipelinesOptions> = {}) =>
    new Pipelines({
      rooms,
      kinds: { transcode: transcoderKind },
      publisher: roomStreamPublisher,
      logger,
      ...options,
    });

  /** A room with one VP8 "camera" stream, 320x240 30 fps from an ffmpeg test source (stopped with the room). */
  async function roomWithCamera(): Promise<{ room: Room; streamId: string }> {
    const room = await rooms.open(`svc/${randomUUID()}`);
    const transport = await room.router.createPlainTransport({
      listenIp: '127.0.0.1',
      rtcpMux: false,
      comedia: true,
    });
    const ssrc = 20_000_000 + Math.floor(Math.random() * 1_000_000);
    const producer = await transport.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    const sender = new FfmpegProcess({
      args: [
        ...['-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-an'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16', '-b:v', '600k', '-g', '30'],
        ...['-payload_type', '101', '-ssrc', String(ssrc), '-f', 'rtp'],
        `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}&pkt_size=1200`,
      ],
    });
    senders.push(sender);
    room.once('close', () => void sender.close(500));
    // A camera piped in from another node: the room sees it like any participant's.
    await room.addStream(
      producer,
      { id: producer.id, owner: 'cam', kind: 'video', source: 'camera', paused: false },
      { kind: 'pipe', fromNode: 'node-far' },
    );
    return { room, streamId: producer.id };
  }

  /** Consumes a room stream into an ffmpeg decoder; resolves its decoded frame count as it goes. */
  async function decode(room: Room, producerId: string) {
    const transport = await room.router.createPlainTransport({
      listenIp: '127.0.0.1',
      rtcpMux: false,
      comedia: false,
    });
    const port = await freeUdpPortPair();
    await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
    const consumer = await transport.consume({ producerId, rtpCapabilities: room.router.rtpCapabilities });
    const sdpPath = join(dir, `${producerId}.sdp`);
    writeFileSync(
      sdpPath,
      sdpForRtpReceiver({ rtpParameters: consumer.rtpParameters, kind: 'video', address: '127.0.0.1', port }),
    );
    let frames = 0;
    const receiver = new FfmpegProcess({
      args: [
        '-nostats',
        '-progress',
        'pipe:1',
        '-protocol_whitelist',
        'file,udp,rtp',
        '-i',
        sdpPath,
        '-f',
        'null',
        '-',
      ],
    });
    receiver.on('progress', (p) => {
      frames = p.frame;
    });
    return {
      frames: () => frames,
      codec: consumer.rtpParameters.codecs[0]!.mimeType,
      stderr: () => receiver.stderrTail,
      async close() {
        transport.close();
        await receiver.close(500);
      },
    };
  }

  it('pipeline.start returns before ffmpeg starts; the output joins the room and decodes with frames advancing; pipeline CPU raises the reported load; stop removes it', async () => {
    const { room, streamId } = await roomWithCamera();
    const pipelines = registry();
    const command = NodeCommandSchema.parse({
      id: randomUUID(),
      issuedAt: new Date().toISOString(),
      roomId: room.id,
      type: 'pipeline.start',
      pipelineId: 'tc-1',
      kind: 'transcode',
      input: { streamId },
      params: { codec: 'h264', width: 160, height: 120, framerate: 15, bitrateKbps: 200 },
    });
    const t0 = performance.now();
    await pipelineHandlers(pipelines)['pipeline.start'](
      command as Extract<typeof command, { type: 'pipeline.start' }>,
    );
    const handlerMs = performance.now() - t0;
    const pipeline = pipelines.get('tc-1')!;
    // The handler registered it and returned: ffmpeg had not written a frame yet.
    expect(pipeline.state).not.toBe('running');
    expect(handlerMs).toBeLessThan(1000);

    const started = await once<{ restarts: number }>(pipeline, 'started');
    expect(started.restarts).toBe(0);
    const output = await until(
      () => room.streams().find((s) => s.owner === 'pipeline:tc-1'),
      (s) => s !== undefined,
    );
    expect(output).toMatchObject({ kind: 'video', source: 'camera' });
    expect(pipeline.outputs).toEqual([{ streamId: output!.id, kind: 'video' }]);

    const rx = await decode(room, output!.id);
    expect(rx.codec).toBe('video/H264');
    const first = await until(rx.frames, (n) => n >= 10);
    expect(first, rx.stderr()).toBeGreaterThanOrEqual(10);
    const later = await until(rx.frames, (n) => n >= first + 10);
    expect(later, rx.stderr()).toBeGreaterThanOrEqual(first + 10);
    expect(rx.stderr()).toMatch(/h264.*160x120/);

    // Capacity: the transcode's ffmpeg CPU is in the report and in its load.
    const nodes = new MemoryNodeRegistry();
    const reporter = new CapacityReporter({
      nodeId: 'n1',
      pool,
      rooms,
      registry: nodes,
      logger,
      pipelines: () => pipelines.usage(),
    });
    await reporter.start();
    reporter.stop();
    const report = await until(
      async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return reporter.report();
      },
      (r) => (r.pipelineCpu ?? 0) > 0,
      10_000,
    );
    expect(report.pipelines).toBe(1);
    expect(
      report.pipelineCpu,
      `pipeline pid ${pipeline.process?.pid}, state ${pipeline.state}`,
    ).toBeGreaterThan(0);
    // The load counts the node's share of CPU that ffmpeg used, on top of the busiest worker's.
    expect(report.load).toBeGreaterThanOrEqual(
      Math.min(1, report.pipelineCpu! / availableParallelism()) - 0.001,
    );
    expect(report.capabilities).toEqual(expect.arrayContaining(['sfu', 'mix', 'stream', 'record']));
    expect(pipelines.usage().processes[0]!.cpuSeconds).toBeGreaterThan(0);

    const pid = pipeline.process!.pid!;
    const ended = once<{ reason: string }>(pipeline, 'ended');
    await pipelineHandlers(pipelines)['pipeline.stop']({
      ...command,
      type: 'pipeline.stop',
      pipelineId: 'tc-1',
    } as never);
    expect(await ended).toEqual({ reason: 'stopped' });
    expect(pipelines.get('tc-1')).toBeUndefined();
    expect(room.streams().some((s) => s.owner === 'pipeline:tc-1')).toBe(false);
    expect(
      await until(
        () => alive(pid),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
    await rx.close();
    room.close();
  }, 60_000);

  it('closing the room closes its pipelines and their ffmpeg', async () => {
    const { room, streamId } = await roomWithCamera();
    const pipelines = registry();
    const pipeline = pipelines.start({
      id: 'tc-2',
      kind: 'transcode',
      roomId: room.id,
      inputs: [streamId],
      params: {},
    });
    await once(pipeline, 'started');
    const pid = pipeline.process!.pid!;
    const ended = once<{ reason: string }>(pipeline, 'ended');
    room.close();
    expect(await ended).toEqual({ reason: 'room closed' });
    expect(pipelines.list()).toEqual([]);
    expect(
      await until(
        () => alive(pid),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
  }, 60_000);

  it('a transcode ends when its input stream goes, and takes its output stream with it', async () => {
    const { room, streamId } = await roomWithCamera();
    const pipelines = registry();
    const pipeline = pipelines.start({
      id: 'tc-6',
      kind: 'transcode',
      roomId: room.id,
      inputs: [streamId],
      params: {},
    });
    await once(pipeline, 'started', 40_000);
    const output = await until(
      () => room.streams().find((s) => s.owner === 'pipeline:tc-6'),
      (s) => s !== undefined,
    );
    const ended = once<{ reason: string }>(pipeline, 'ended');
    room.withdrawStream(streamId);
    expect(await ended).toEqual({ reason: 'input gone' });
    expect(room.streams().map((s) => s.id)).not.toContain(output!.id);
    expect(pipelines.list()).toEqual([]);
    room.close();
  }, 60_000);

  it('a killed ffmpeg is restarted with backoff; after the bound the pipeline fails and its stream goes', async () => {
    const { room, streamId } = await roomWithCamera();
    const pipelines = registry({ restart: { max: 2, baseMs: 400, maxMs: 2000, stableMs: 60_000 } });
    const pipeline = pipelines.start({
      id: 'tc-3',
      kind: 'transcode',
      roomId: room.id,
      inputs: [streamId],
      params: {},
    });
    await once(pipeline, 'started', 40_000);
    const failed = once<{ reason: string }>(pipeline, 'failed', 30_000);
    const pids = [pipeline.process!.pid!];
    const gaps: number[] = [];
    for (let kill = 1; kill <= 2; kill++) {
      process.kill(pids.at(-1)!, 'SIGKILL');
      const killedAt = Date.now();
      const next = await until(
        () => pipeline.process?.pid,
        (pid) => pid !== undefined && !pids.includes(pid),
      );
      gaps.push(Date.now() - killedAt);
      expect(next).toBeDefined();
      pids.push(next!);
      expect(pipeline.restarts).toBe(kill);
    }
    // Backoff 400 ms then 800 ms, each jittered to 50–100 %.
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    expect(gaps[1]).toBeGreaterThanOrEqual(390);
    // The restarted ffmpeg transcodes again.
    const restarted = pipeline.process!;
    await once(pipeline, 'started', 40_000).catch((error) => {
      throw new Error(`${error.message}; state ${pipeline.state}\n${restarted.stderrTail.slice(-1500)}`);
    });
    process.kill(pids.at(-1)!, 'SIGKILL');
    expect((await failed).reason).toMatch(/crashed 3 times/);
    expect(pipeline.closed).toBe(true);
    expect(pipelines.get('tc-3')).toBeUndefined();
    expect(room.streams().some((s) => s.owner === 'pipeline:tc-3')).toBe(false);
    room.close();
  }, 90_000);

  it('an unknown input stream fails the pipeline (no crash); bad requests are refused with codes', async () => {
    const { room, streamId } = await roomWithCamera();
    const pipelines = registry({ limits: { perRoom: 1 } });
    const pipeline = pipelines.start({
      id: 'tc-4',
      kind: 'transcode',
      roomId: room.id,
      inputs: ['nope'],
      params: {},
    });
    const failed = await once<{ reason: string }>(pipeline, 'failed');
    expect(failed.reason).toMatch(/no stream nope/);
    expect(pipelines.list()).toEqual([]);

    const refused = (spec: Partial<Parameters<Pipelines['start']>[0]>) => {
      try {
        pipelines.start({
          id: randomUUID(),
          kind: 'transcode',
          roomId: room.id,
          inputs: [streamId],
          params: {},
          ...spec,
        });
      } catch (error) {
        return (error as { code: number }).code;
      }
      return 'started';
    };
    expect(refused({ kind: 'mix' })).toBe(ErrorCodes.invalidRequest);
    expect(refused({ params: { bitrateKbps: 1_000_000 } })).toBe(ErrorCodes.invalidRequest);
    expect(refused({ params: { width: 8000 } })).toBe(ErrorCodes.invalidRequest);
    expect(refused({ roomId: 'svc/absent' })).toBe(ErrorCodes.roomNotFound);
    const running: Pipeline = pipelines.start({
      id: 'tc-5',
      kind: 'transcode',
      roomId: room.id,
      inputs: [streamId],
      params: {},
    });
    expect(refused({ id: 'tc-5' })).toBe(ErrorCodes.conflict);
    expect(refused({})).toBe(ErrorCodes.limitExceeded);
    pipelines.close();
    expect(running.closed).toBe(true);
    room.close();
  }, 60_000);
});
