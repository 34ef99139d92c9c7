// Forwarding over WebRtcTransports (issue #16, goal 5): worker CPU per forwarded packet when the
// consumers are real WebRTC receivers (werift through mediasoup-client: ICE with consent, DTLS,
// SRTP, receiver reports, NACK, transport-wide CC), Tessera's media node against bare mediasoup
// with the same worker binary, sweeps alternating in one sitting.
// - tessera: WorkerPool's worker, a WebRtcServer, the transports' options of Room
//   (PEER_TRANSPORT_OPTIONS: UDP+TCP, SCTP, 1 Mbit/s initial estimate), consumers made paused
//   and resumed once connected, as a subscription is;
// - bare: mediasoup.createWorker() with its defaults, a transport on its own UDP port, consumers
//   made running.
// One VP8 producer (a PlainTransport fed a paced replay of recorded RTP, ~99 packets/s); the
// worker has core 1, the sender and the receivers core 0. Method: ../../docs/benchmarks.md.
//
// Usage: npm run bench:forwarding-webrtc -- [--steps 0,30,60,90,120] [--rounds 3] [--warm 5] [--measure 12]
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { z } from 'zod';
import { routerMediaCodecs } from '../../media-node/codecs/routerCodecs.ts';
import { PEER_TRANSPORT_OPTIONS } from '../../media-node/sfu/Room.ts';
import { arg } from '../args.ts';
import {
  type Arm,
  armWorker,
  child,
  cpuNs,
  DATA,
  dropsOn,
  LOSS_LIMIT,
  pin,
  replayedVp8Producer,
  sleep,
  slopeUsPerPacket,
  udpDrops,
} from './measure.ts';
import { recordVp8 } from './record.ts';

const options = z
  .object({
    steps: z
      .string()
      .default('0,30,60,90,120')
      .transform((s) => s.split(',').map(Number)),
    rounds: z.coerce.number().int().min(1).max(5).default(3),
    warm: z.coerce.number().min(1).default(5),
    measure: z.coerce.number().min(1).default(12),
  })
  .parse({ steps: arg('steps'), rounds: arg('rounds'), warm: arg('warm'), measure: arg('measure') });

interface Step {
  consumers: number;
  workerCpuPct: number;
  receiversCpuPct: number;
  deliveredPps: number;
  lossPct: number;
  workerInputDrops: number;
  /** Of the bytes the worker sent over the window: media, retransmissions, BWE probes (kB/s). */
  sentKBps: { media: number; rtx: number; probation: number };
}

/** Bytes sent so far by every transport, by kind (WebRtcTransport stats). */
async function bytesSent(transports: Iterable<types.WebRtcTransport>) {
  const total = { media: 0, rtx: 0, probation: 0 };
  for (const t of transports)
    for (const s of await t.getStats()) {
      total.media += s.rtpBytesSent ?? 0;
      total.rtx += s.rtxBytesSent ?? 0;
      total.probation += s.probationBytesSent ?? 0;
    }
  return total;
}

/** A worker with one router and one VP8 producer fed by the replay, made as the arm makes them. */
async function setUp(arm: Arm) {
  const { worker, close } = await armWorker(arm);
  pin(worker.pid, '1');
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const webRtcServer =
    arm === 'tessera'
      ? await worker.createWebRtcServer({
          listenInfos: [
            { protocol: 'udp', ip: '127.0.0.1', port: 0 },
            { protocol: 'tcp', ip: '127.0.0.1', port: 0 },
          ],
        })
      : undefined;
  const { producer, inputPort } = await replayedVp8Producer(router);
  const transport = () =>
    arm === 'tessera'
      ? router.createWebRtcTransport({ webRtcServer: webRtcServer!, ...PEER_TRANSPORT_OPTIONS })
      : router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  return { worker, router, producer, inputPort, transport, close };
}

/** The receivers' process: answers its requests and connects the transports it asks to. */
function receivers(transports: Map<string, types.WebRtcTransport>) {
  const proc = child('webrtcSink.ts');
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  let nextId = 1;
  proc.on('message', async (m: Record<string, unknown>) => {
    if (typeof m.re === 'number') {
      waiting.get(m.re)?.(m);
      waiting.delete(m.re);
    } else if (m.cmd === 'connect') {
      await transports.get(m.transportId as string)!.connect({
        dtlsParameters: m.dtlsParameters as types.DtlsParameters,
      });
      proc.send({ re: m.id });
    }
  });
  const request = (msg: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (m) => (m.error ? reject(new Error(String(m.error))) : resolve(m)));
      proc.send({ id, ...msg });
    });
  return { proc, request, ready: new Promise((r) => proc.once('message', r)) };
}

async function sweep(arm: Arm): Promise<Step[]> {
  const { worker, router, producer, inputPort, transport, close } = await setUp(arm);
  const transports = new Map<string, types.WebRtcTransport>();
  const sink = receivers(transports);
  await sink.ready;
  const sender: ChildProcess = child('send.ts', [DATA, String(inputPort)]);
  pin(sender.pid!, '0');
  pin(sink.proc.pid!, '0');
  // What the receivers' device can take, as a browser's login sends it.
  const { caps } = await sink.request({ cmd: 'load', caps: router.rtpCapabilities });

  const steps: Step[] = [];
  let made = 0;
  for (const n of options.steps) {
    for (; made < n; made++) {
      const t = await transport();
      transports.set(t.id, t);
      const consumer = await t.consume({
        producerId: producer.id,
        rtpCapabilities: caps as types.RtpCapabilities,
        paused: arm === 'tessera',
      });
      await sink.request({
        cmd: 'add',
        transport: {
          id: t.id,
          iceParameters: t.iceParameters,
          iceCandidates: t.iceCandidates,
          dtlsParameters: t.dtlsParameters,
        },
        consumer: {
          id: consumer.id,
          producerId: producer.id,
          kind: consumer.kind,
          rtpParameters: consumer.rtpParameters,
        },
      });
      if (arm === 'tessera') await consumer.resume();
    }
    await sleep(options.warm * 1000);
    const k0 = await sink.request({ cmd: 'snap' });
    const b0 = await bytesSent(transports.values());
    const d0 = udpDrops();
    const [w0, r0] = [cpuNs(worker.pid), cpuNs(sink.proc.pid!)];
    const t0 = performance.now();
    await sleep(options.measure * 1000);
    const [w1, r1] = [cpuNs(worker.pid), cpuNs(sink.proc.pid!)];
    const seconds = (performance.now() - t0) / 1000;
    const k1 = await sink.request({ cmd: 'snap' });
    const b1 = await bytesSent(transports.values());
    const rate = (k: keyof typeof b0) => Math.round((b1[k] - b0[k]) / seconds / 1000);
    const delivered = (k1.packets as number) - (k0.packets as number);
    const lost = (k1.lost as number) - (k0.lost as number);
    const step: Step = {
      consumers: n,
      workerCpuPct: ((w1 - w0) / 1e9 / seconds) * 100,
      receiversCpuPct: ((r1 - r0) / 1e9 / seconds) * 100,
      deliveredPps: delivered / seconds,
      lossPct: delivered + lost > 0 ? (lost / (delivered + lost)) * 100 : 0,
      workerInputDrops: dropsOn(d0, udpDrops(), [inputPort]),
      sentKBps: { media: rate('media'), rtx: rate('rtx'), probation: rate('probation') },
    };
    steps.push(step);
    console.log(
      `${arm.padEnd(7)} N=${n}\tworker ${step.workerCpuPct.toFixed(1)} %\treceivers ${step.receiversCpuPct.toFixed(1)} %` +
        `\t${step.deliveredPps.toFixed(0)} pkt/s\tloss ${step.lossPct.toFixed(3)} %` +
        `\tsent kB/s media ${step.sentKBps.media} rtx ${step.sentKBps.rtx} probes ${step.sentKBps.probation}`,
    );
    // The receivers share a core with the sender: once they fall behind, the figures stop meaning anything.
    if (step.lossPct > LOSS_LIMIT || step.receiversCpuPct > 90) break;
  }
  sender.kill();
  sink.proc.kill();
  close();
  return steps;
}

const slopeOf = (steps: Step[]) =>
  slopeUsPerPacket(
    steps
      .filter((s) => s.lossPct <= LOSS_LIMIT && s.receiversCpuPct <= 90)
      .map((s) => ({ pps: s.deliveredPps, cpuPct: s.workerCpuPct })),
  );

if (!existsSync(DATA)) console.log(`recorded ${await recordVp8(DATA)} VP8 packets to ${DATA}`);
pin(process.pid, '0');
const rounds: { tessera: Step[]; bare: Step[]; usPerPacket: { tessera: number; bare: number } }[] = [];
for (let r = 0; r < options.rounds; r++) {
  // Alternate which goes first, so a busier minute favours neither.
  const order: Arm[] = r % 2 === 0 ? ['tessera', 'bare'] : ['bare', 'tessera'];
  const result = { tessera: [] as Step[], bare: [] as Step[] };
  for (const arm of order) result[arm] = await sweep(arm);
  const usPerPacket = {
    tessera: Number(slopeOf(result.tessera).toFixed(2)),
    bare: Number(slopeOf(result.bare).toFixed(2)),
  };
  console.log(`round ${r + 1}: µs/packet tessera ${usPerPacket.tessera}, bare ${usPerPacket.bare}`);
  rounds.push({ ...result, usPerPacket });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tessera = median(rounds.map((r) => r.usPerPacket.tessera));
const bare = median(rounds.map((r) => r.usPerPacket.bare));
const report = {
  benchmark: 'forwarding-webrtc',
  date: new Date().toISOString(),
  machine: { host: hostname(), cores: 2, load: readFileSync('/proc/loadavg', 'utf8').trim() },
  method: {
    ...options,
    stream: 'VP8 640x480 800 kbit/s ~99 pkt/s',
    receivers: 'werift peer connections through mediasoup-client (no decoding), one process on core 0',
    lossLimitPct: LOSS_LIMIT,
  },
  goal: { ratio: 1.05 },
  summary: {
    usPerPacket: { tessera, bare },
    ratio: Number((tessera / bare).toFixed(3)),
  },
  rounds,
};
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'results',
  `forwarding-webrtc-${report.date.slice(0, 10)}.json`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report.summary, null, 2));
console.log(`wrote ${out}`);
process.exit(0);
