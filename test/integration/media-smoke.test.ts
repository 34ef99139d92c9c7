import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerMediaCodecs } from '../../media-node/codecs/routerCodecs.ts';
import { FfmpegProcess } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import { sdpForRtpReceiver } from '../../media-node/ffmpeg/sdp.ts';
import { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import { workerBinaryStatus } from '../../media-node/workers/workerBinary.ts';
import { createLogger } from '../../shared/logger.ts';
import { freeUdpPortPair } from '../harness/udp.ts';

const SECONDS = 5;
const FPS = 30;
const SENT_FRAMES = SECONDS * FPS;

interface CodecCase {
  name: string;
  producerCodec: types.RtpCodecParameters;
  encoderArgs: string[];
}

const cases: CodecCase[] = [
  {
    name: 'VP8',
    producerCodec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
    encoderArgs: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k', '-g', '30'],
  },
  {
    name: 'H264',
    producerCodec: {
      mimeType: 'video/H264',
      payloadType: 102,
      clockRate: 90000,
      parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
    },
    encoderArgs: [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-profile:v',
      'baseline',
      '-pix_fmt',
      'yuv420p',
      '-g',
      '30',
      '-bf',
      '0',
      '-b:v',
      '500k',
    ],
  },
];

describe('media smoke: ffmpeg → PlainTransport producer → consumer → ffmpeg decoder', () => {
  let pool: WorkerPool;
  let router: types.Router;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-smoke-'));

  beforeAll(async () => {
    // A missing or stale worker fails here, before any media is attempted.
    const status = workerBinaryStatus();
    expect(status.installedKey, `worker binary at ${status.path}`).toBe(status.expectedKey);
    pool = await WorkerPool.create({ size: 1, logger: createLogger({ level: 'warn' }) });
    router = await pool.workers[0]!.createRouter({ mediaCodecs: routerMediaCodecs });
  });

  afterAll(() => pool?.close());

  it('router offers opus, PCMU, PCMA, G722, VP8, VP9, H264, H265 and AV1', () => {
    const offered = new Set(router.rtpCapabilities.codecs?.map((c) => c.mimeType.toLowerCase()));
    for (const mime of [
      'audio/opus',
      'audio/pcmu',
      'audio/pcma',
      'audio/g722',
      'video/vp8',
      'video/vp9',
      'video/h264',
      'video/h265',
      'video/av1',
    ]) {
      expect(offered, mime).toContain(mime);
    }
  });

  for (const c of cases) {
    it(`${c.name}: the receiver decodes at least 90% of the sent frames`, async () => {
      const ssrc = 10_000_000 + Math.floor(Math.random() * 1_000_000);
      // rtcpMux off: ffmpeg sends RTCP from its own port, and comedia would lock onto it.
      const inbound = await router.createPlainTransport({
        listenIp: '127.0.0.1',
        rtcpMux: false,
        comedia: true,
      });
      const producer = await inbound.produce({
        kind: 'video',
        rtpParameters: { codecs: [c.producerCodec], encodings: [{ ssrc }] },
      });
      const outbound = await router.createPlainTransport({
        listenIp: '127.0.0.1',
        rtcpMux: false,
        comedia: false,
      });
      const rxPort = await freeUdpPortPair();
      await outbound.connect({ ip: '127.0.0.1', port: rxPort, rtcpPort: rxPort + 1 });
      const consumer = await outbound.consume({
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
      });

      const sdpPath = join(dir, `${c.name}.sdp`);
      const framesPath = join(dir, `${c.name}.framemd5`);
      writeFileSync(
        sdpPath,
        sdpForRtpReceiver({
          rtpParameters: consumer.rtpParameters,
          kind: consumer.kind,
          address: '127.0.0.1',
          port: rxPort,
        }),
      );
      // listen_timeout: the receiver ends by itself 2 s after the stream stops, its output
      // finalized; a blocked RTP read would only notice SIGINT at that timeout anyway.
      const receiver = new FfmpegProcess({
        args: [
          '-listen_timeout',
          '2',
          '-protocol_whitelist',
          'file,udp,rtp',
          '-i',
          sdpPath,
          '-map',
          '0:v',
          '-f',
          'framemd5',
          '-y',
          framesPath,
        ],
      });
      await new Promise((r) => setTimeout(r, 800)); // let the receiver bind its port

      const sender = new FfmpegProcess({
        args: [
          '-re',
          '-f',
          'lavfi',
          '-i',
          `testsrc=size=320x240:rate=${FPS}`,
          '-t',
          String(SECONDS),
          '-an',
          ...c.encoderArgs,
          '-payload_type',
          String(c.producerCodec.payloadType),
          '-ssrc',
          String(ssrc),
          '-f',
          'rtp',
          `rtp://127.0.0.1:${inbound.tuple.localPort}?rtcpport=${inbound.rtcpTuple!.localPort}&pkt_size=1200`,
        ],
      });
      const sent = await sender.exited();
      expect(sent.code, sender.stderrTail).toBe(0);
      await new Promise((r) => setTimeout(r, 300)); // the last packets are in flight
      const forwarded = (await consumer.getStats())[0]?.packetCount ?? 0;
      outbound.close(); // no more RTCP either: the receiver's listen timeout starts
      const received = await receiver.exited();
      expect(received.code, receiver.stderrTail).toBe(0);

      const decoded = readFileSync(framesPath, 'utf8')
        .split('\n')
        .filter((l) => /^\d/.test(l)).length;
      expect(forwarded, 'consumer forwarded packets').toBeGreaterThan(0);
      expect(decoded, `decoded ${decoded}/${SENT_FRAMES}\n${receiver.stderrTail}`).toBeGreaterThanOrEqual(
        Math.ceil(SENT_FRAMES * 0.9),
      );
      inbound.close();
    }, 30_000);
  }
});
