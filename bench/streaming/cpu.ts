// CPU of Tessera's media jobs against a bare ffmpeg doing the same job (issue #14, acceptance 6):
// a streaming-out (RTMP to node-media-server), a recording (mkv) and a transcode (H.264 320×240 at
// 15 fps) of one 640×480 VP8 camera at 30 fps. Both sides read the same RTP: Tessera's pipeline
// a consumer it makes itself; the bare ffmpeg a consumer of its own, through an SDP file, as a
// hand-written ffmpeg job would. Tessera's side counts its ffmpeg processes, this process (the
// node's Node.js) above its idle rate and the mediasoup worker above its rate with the camera
// alone; the bare side its ffmpeg and the worker's extra consumer the same way.
//
// Usage: npm run bench:streaming-cpu -- [--seconds 20] [--out streaming-cpu-YYYY-MM-DD.json]
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { FfmpegProcess } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import { sdpForRtpReceiver } from '../../media-node/ffmpeg/sdp.ts';
import { transcoderKind } from '../../media-node/mcu/Transcoder.ts';
import type { Pipeline } from '../../media-node/pipelines/Pipeline.ts';
import { Pipelines } from '../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../media-node/pipelines/publisher.ts';
import { recorderKind } from '../../media-node/recording/Recorder.ts';
import { streamingOutKind } from '../../media-node/streaming/StreamingOut.ts';
import { createLogger } from '../../shared/logger.ts';
import { roomsOnWorker } from '../../test/harness/roomsOnWorker.ts';
import { startRtmpServer } from '../../test/harness/rtmpServer.ts';
import { freeUdpPortPair } from '../../test/harness/udp.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map<string, string>();
process.argv.slice(2).forEach((a, i, all) => {
  if (a.startsWith('--')) args.set(a.slice(2), all[i + 1] ?? '');
});
const SECONDS = Number(args.get('seconds') ?? 20);
const WARMUP_MS = 4000;
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK']).toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...m: unknown[]) => console.log('[bench:streaming-cpu]', ...m);

const cpuOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
};
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const logger = createLogger({ level: 'error' });
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-cpu-'));
const { pool, rooms } = await roomsOnWorker(logger);
const workerPid = pool.workers[0]!.pid;
const pipelines = new Pipelines({
  rooms,
  kinds: { 'stream-out': streamingOutKind(), record: recorderKind(work), transcode: transcoderKind },
  publisher: roomStreamPublisher,
  logger,
});
const rtmp = await startRtmpServer();
const room = await rooms.open(`bench/cpu-${Date.now()}`);

// The camera: an ffmpeg encoder sending VP8 640×480 at 30 fps over RTP to a producer.
const inbound = await room.router.createPlainTransport({
  listenIp: '127.0.0.1',
  rtcpMux: false,
  comedia: true,
});
const ssrc = randomInt(1_000_000, 0x7fffffff);
const producer = await inbound.produce({
  kind: 'video',
  rtpParameters: {
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
    encodings: [{ ssrc }],
  },
});
await room.addStream(
  producer,
  { id: producer.id, owner: 'camera', kind: 'video', source: 'camera', paused: false, publication: 'camera' },
  { kind: 'participant', participantId: 'camera' },
);
// biome-ignore format: ffmpeg arguments read best as option/value pairs
const camera = new FfmpegProcess({
  args: [
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1000k', '-g', '60',
    '-payload_type', '96', '-ssrc', String(ssrc), '-f', 'rtp',
    `rtp://127.0.0.1:${inbound.tuple.localPort}?rtcpport=${inbound.rtcpTuple!.localPort}&pkt_size=1200`,
  ],
});
await sleep(3000);

/** CPU (cores) over the window: `processes`' own, and this process and the worker above `idle`. */
async function measure(pids: () => number[]): Promise<{ ffmpeg: number; node: number; worker: number }> {
  await sleep(WARMUP_MS);
  const ps = pids();
  const before = new Map(ps.map((pid) => [pid, cpuOf(pid)]));
  const node0 = selfCpu();
  const worker0 = cpuOf(workerPid);
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const s = (performance.now() - t0) / 1000;
  const ffmpeg = ps.reduce((sum, pid) => sum + (cpuOf(pid) - before.get(pid)!), 0) / s;
  return { ffmpeg, node: (selfCpu() - node0) / s, worker: (cpuOf(workerPid) - worker0) / s };
}

/** A consumer of the camera into an SDP file, for a bare ffmpeg to read (what a job outside Tessera would do). */
async function bareInput(): Promise<{ sdp: string; transport: types.PlainTransport }> {
  const transport = await room.router.createPlainTransport({
    listenIp: '127.0.0.1',
    rtcpMux: false,
    comedia: false,
  });
  const port = await freeUdpPortPair();
  await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
  const consumer = await transport.consume({
    producerId: producer.id,
    rtpCapabilities: room.router.rtpCapabilities,
    paused: true,
  });
  const sdp = join(work, `bare-${port}.sdp`);
  writeFileSync(
    sdp,
    sdpForRtpReceiver({ rtpParameters: consumer.rtpParameters, kind: 'video', address: '127.0.0.1', port }),
  );
  setTimeout(() => void consumer.resume().then(() => consumer.requestKeyFrame()), 1000);
  return { sdp, transport };
}

// biome-ignore format: ffmpeg arguments read best as option/value pairs
const INPUT = (sdp: string) => ['-protocol_whitelist', 'file,udp,rtp', '-analyzeduration', '1000000', '-i', sdp];
// The bare jobs, written as one would by hand with the same codec settings as Tessera's.
// biome-ignore format: ffmpeg arguments read best as option/value pairs
const BARE: Record<string, (sdp: string, out: string) => string[]> = {
  'stream-out': (sdp, out) => [
    ...INPUT(sdp), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-pix_fmt', 'yuv420p', '-r', '30', '-bf', '0', '-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '2000k',
    '-threads', '1', '-g', '60', '-f', 'flv', out,
  ],
  record: (sdp, out) => [...INPUT(sdp), '-c', 'copy', '-f', 'matroska', '-y', out],
  transcode: (sdp, out) => [
    ...INPUT(sdp), '-vf', 'scale=320:240,fps=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-threads', '1', '-b:v', '300k', '-maxrate', '300k',
    '-bufsize', '300k', '-g', '15', '-bf', '0', '-f', 'rtp', out,
  ],
};
const JOBS = [
  {
    kind: 'stream-out',
    params: { protocol: 'rtmp', kinds: 'video', url: rtmp.url('live/tessera') },
    bareOut: () => rtmp.url('live/bare'),
  },
  { kind: 'record', params: { container: 'mkv', kinds: 'video' }, bareOut: () => join(work, 'bare.mkv') },
  {
    kind: 'transcode',
    params: { codec: 'h264', width: 320, height: 240, framerate: 15, bitrateKbps: 300 },
    bareOut: async () => `rtp://127.0.0.1:${await freeUdpPortPair()}`,
  },
] as const;

// The baseline: the camera alone (the worker forwards nothing; this process idles).
const idle = await measure(() => []);
log('idle', idle);
const results: Record<string, unknown> = {};
for (const job of JOBS) {
  const pipeline: Pipeline = pipelines.start({
    id: `bench-${job.kind}`,
    kind: job.kind,
    roomId: room.id,
    inputs: [producer.id],
    params: job.params,
  });
  pipeline.once('failed', ({ reason }) => log(`${job.kind} failed: ${reason}`));
  const tessera = await measure(() => {
    const pids = pipeline.processes.flatMap((p) => (p.pid ? [p.pid] : []));
    if (pids.length === 0) throw new Error(`the ${job.kind} pipeline runs no ffmpeg (${pipeline.state})`);
    return pids;
  });
  pipeline.close('stopped');
  await sleep(1000);

  const input = await bareInput();
  const bare = new FfmpegProcess({ args: BARE[job.kind]!(input.sdp, await job.bareOut()) });
  const bareCpu = await measure(() => (bare.pid ? [bare.pid] : []));
  await bare.close(2000);
  input.transport.close();

  const tesseraTotal =
    tessera.ffmpeg + Math.max(0, tessera.node - idle.node) + Math.max(0, tessera.worker - idle.worker);
  const bareTotal = bareCpu.ffmpeg + Math.max(0, bareCpu.worker - idle.worker);
  const round = (x: number) => Math.round(x * 1000) / 10;
  results[job.kind] = {
    tesseraPercentOfCore: round(tesseraTotal),
    bareFfmpegPercentOfCore: round(bareTotal),
    ratio: Math.round((tesseraTotal / bareTotal) * 100) / 100,
    tessera: {
      ffmpeg: round(tessera.ffmpeg),
      node: round(tessera.node - idle.node),
      worker: round(tessera.worker - idle.worker),
    },
    bare: { ffmpeg: round(bareCpu.ffmpeg), worker: round(bareCpu.worker - idle.worker) },
  };
  log(job.kind, results[job.kind]);
}

const report = {
  date: new Date().toISOString(),
  machine: {
    host: hostname(),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    load: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  method: {
    source:
      'ffmpeg testsrc2 640x480 at 30 fps, VP8 1 Mbps (libvpx realtime) over RTP into a PlainTransport producer',
    window: `${SECONDS} s after ${WARMUP_MS / 1000} s of warm-up, one job at a time`,
    tessera:
      "the pipeline's ffmpeg processes (/proc/<pid>/stat) + this process and the mediasoup worker above their rates with the camera alone",
    bare: 'a hand-written ffmpeg with the same codec settings reading its own consumer of the camera through an SDP file, + the worker above its rate',
    jobs: {
      'stream-out': 'H.264 ultrafast zerolatency 2 Mbps at 30 fps to node-media-server (RTMP)',
      record: 'VP8 copied into Matroska (Tessera flushes a cluster every few seconds: crash-safe files)',
      transcode: 'H.264 320x240 at 15 fps, 300 kbps, back over RTP (Tessera: into the room as a stream)',
    },
  },
  idle: { node: Math.round(idle.node * 1000) / 10, worker: Math.round(idle.worker * 1000) / 10 },
  cpuPercentOfCore: results,
};
const out = resolve(
  here,
  '..',
  'results',
  args.get('out') ?? `streaming-cpu-${report.date.slice(0, 10)}.json`,
);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${out}`);

await camera.close(1000);
pipelines.close();
room.close();
rooms.close();
pool.close();
await rtmp.close();
rmSync(work, { recursive: true, force: true });
process.exit(0);
