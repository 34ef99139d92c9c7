// Glass-to-glass latency of streaming-outs (issue #14, acceptance 3): a probe source (raw frames
// written by this process, VP8 over RTP into a room, as a camera would) turns bright now and then;
// the same flash is watched, decoded by ffmpeg players, (a) forwarded by the SFU (a consumer of
// the probe), (b) through a streaming-out to a real RTMP server (node-media-server, child
// process) and (c) as HLS uploaded to an HTTP origin. Latency = flash → first bright decoded frame.
// The players are ffmpeg's (RTMP with -fflags nobuffer; HLS from its live edge as ffmpeg's HLS
// demuxer picks it, 3 segments back, as hls.js does by default), so these are the protocols' and
// the pipeline's latencies, not a particular player's tuning.
//
// Usage: npm run bench:streaming -- [--flashes 6] [--segment 1] [--out streaming-YYYY-MM-DD.json]
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sdpForRtpReceiver } from '../../media-node/ffmpeg/sdp.ts';
import { Pipelines } from '../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../media-node/pipelines/publisher.ts';
import { streamingOutKind } from '../../media-node/streaming/StreamingOut.ts';
import { createLogger } from '../../shared/logger.ts';
import { startHttpOrigin } from '../../test/harness/httpOrigin.ts';
import { roomsOnWorker } from '../../test/harness/roomsOnWorker.ts';
import { startRtmpServer } from '../../test/harness/rtmpServer.ts';
import { freeUdpPortPair } from '../../test/harness/udp.ts';
import { brightnessWatcher, percentile, startProbe } from '../mcu/latencyProbe.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map<string, string>();
process.argv.slice(2).forEach((a, i, all) => {
  if (a.startsWith('--')) args.set(a.slice(2), all[i + 1] ?? '');
});
const FLASHES = Number(args.get('flashes') ?? 6);
const SEGMENT_S = Number(args.get('segment') ?? 1);
const FLASH_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...m: unknown[]) => console.log('[bench:streaming]', ...m);

const logger = createLogger({ level: 'error' });
const { pool, rooms } = await roomsOnWorker(logger);
const pipelines = new Pipelines({
  rooms,
  kinds: { 'stream-out': streamingOutKind() },
  publisher: roomStreamPublisher,
  logger,
});
const rtmp = await startRtmpServer();
const origin = await startHttpOrigin();
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-streaming-'));
const room = await rooms.open(`bench/streaming-${Date.now()}`);

// The probe: a PlainTransport producer fed by the manual probe (dark until a flash).
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
  { id: producer.id, owner: 'probe', kind: 'video', source: 'camera', paused: false, publication: 'probe' },
  { kind: 'participant', participantId: 'probe' },
);
const probe = startProbe(inbound.tuple.localPort, inbound.rtcpTuple!.localPort, ssrc, true);

// (a) Forwarded: a consumer of the probe into an ffmpeg player over RTP.
const recv = await room.router.createPlainTransport({
  listenIp: '127.0.0.1',
  rtcpMux: false,
  comedia: false,
});
const port = await freeUdpPortPair();
await recv.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
const consumer = await recv.consume({
  producerId: producer.id,
  rtpCapabilities: room.router.rtpCapabilities,
  paused: true,
});
const sdpPath = join(work, 'forwarded.sdp');
writeFileSync(
  sdpPath,
  sdpForRtpReceiver({ rtpParameters: consumer.rtpParameters, kind: 'video', address: '127.0.0.1', port }),
);
const forwarded = brightnessWatcher(sdpPath);
await sleep(500);
await consumer.resume();

// (b) RTMP and (c) HLS streaming-outs of the probe, then their players.
const start = (id: string, protocol: 'rtmp' | 'hls', url: string) =>
  pipelines.start({
    id,
    kind: 'stream-out',
    roomId: room.id,
    inputs: ['probe'],
    params: { protocol, kinds: 'video', videoKbps: 500, segmentSeconds: SEGMENT_S, windowSize: 6, url },
  });
const rtmpUrl = rtmp.url('live/probe');
const hlsUrl = origin.url('hls/index.m3u8');
start('out-rtmp', 'rtmp', rtmpUrl);
start('out-hls', 'hls', hlsUrl);
const flash = async () => {
  probe.flash(FLASH_MS);
  await sleep(FLASH_MS + 500);
};
// Key frames come with flashes only rarely (the probe's GOP is 0.5 s): let everything start.
for (let i = 0; i < 6; i++) await flash();
const rtmpPlayer = brightnessWatcher(['-i', rtmpUrl]);
const hlsPlayer = brightnessWatcher(['-i', hlsUrl]);
await sleep(12_000);

const paths = { forwarded, rtmp: rtmpPlayer, hls: hlsPlayer } as const;
const samples: Record<keyof typeof paths, number[]> = { forwarded: [], rtmp: [], hls: [] };
for (let i = 0; i < FLASHES; i++) {
  const at = probe.flash(FLASH_MS);
  // Dark again everywhere before the next flash: HLS lags by seconds.
  const deadline = at + 30_000;
  while (performance.now() < deadline) {
    await sleep(100);
    const done = Object.values(paths).every((w) =>
      w.transitions.some((t) => t.at > at && t.bright === false),
    );
    if (done) break;
  }
  for (const [name, watcher] of Object.entries(paths) as [
    keyof typeof paths,
    (typeof paths)[keyof typeof paths],
  ][]) {
    const seen = watcher.transitions.find((t) => t.at > at && t.bright);
    if (seen) samples[name].push(Math.round(seen.at - at));
  }
  log(
    `flash ${i + 1}/${FLASHES}`,
    Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.at(-1)])),
  );
  await sleep(1000);
}

const summary = Object.fromEntries(
  Object.entries(samples).map(([name, xs]) => [
    name,
    { n: xs.length, p50: percentile(xs, 0.5), p95: percentile(xs, 0.95) },
  ]),
);
log('summary (ms, flash → first bright frame decoded by the player)', summary);
const report = {
  date: new Date().toISOString(),
  machine: {
    host: hostname(),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    load: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  method: {
    probe:
      '160x120 grey frames at 30 fps, VP8 (GOP 0.5 s) over RTP into a PlainTransport producer; a flash is 1.5 s bright',
    forwarded: 'a PlainTransport consumer of the probe decoded by ffmpeg (-fflags nobuffer -flags low_delay)',
    rtmp: 'stream-out (H.264 ultrafast zerolatency, GOP 2 s) to node-media-server 4.4.3; ffmpeg player on the RTMP URL',
    hls: `stream-out uploading HLS (${SEGMENT_S} s segments, PUT) to an in-memory HTTP origin; ffmpeg's HLS demuxer from its default live edge (3 segments back)`,
    flashes: FLASHES,
  },
  latencyMs: summary,
  samplesMs: samples,
};
const out = resolve(here, '..', 'results', args.get('out') ?? `streaming-${report.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${out}`);

for (const w of Object.values(paths)) w.stop();
probe.stop();
pipelines.close();
room.close();
rooms.close();
pool.close();
await rtmp.close();
await origin.close();
rmSync(work, { recursive: true, force: true });
process.exit(0);
