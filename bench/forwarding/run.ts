// Forwarding benchmark: one mediasoup worker (one core), one VP8 producer fed by a paced
// replay of recorded RTP, N consumers on PlainTransports (SRTP AES_CM_128_HMAC_SHA1_80 or
// plain RTP) to a UDP sink. Reports worker CPU per forwarded packet and the most consumers
// one core forwards at < 0.5 % loss, for Tessera's worker and for mediasoup's defaults (the
// same binary). Method: ../../docs/benchmarks.md.
//
// Usage: npm run bench:forwarding -- [--srtp-steps 0,200,...] [--plain-steps ...] [--warm 5] [--measure 15]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { routerMediaCodecs } from '../../media-node/codecs/routerCodecs.ts';
import {
  type Arm,
  armWorker,
  ask,
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

const args = new Map<string, string>();
process.argv.slice(2).forEach((a, i, all) => {
  if (a.startsWith('--')) args.set(a.slice(2), all[i + 1] ?? '');
});
const steps = (name: string, fallback: string) => (args.get(name) ?? fallback).split(',').map(Number);
const WARM_S = Number(args.get('warm') ?? 5);
const MEASURE_S = Number(args.get('measure') ?? 15);
const SUITE = 'AES_CM_128_HMAC_SHA1_80' as const;

interface Step {
  consumers: number;
  /** Packets the kernel dropped at the worker's input socket: the worker fell behind. */
  workerInputDrops: number;
  /** Packets dropped at the sink's sockets: the sink fell behind. */
  sinkDrops: number;
  workerCpuPct: number;
  sinkCpuPct: number;
  deliveredPps: number;
  expectedPps: number;
  lossPct: number;
  usPerPacket: number | null;
}

async function sweep(srtp: boolean, counts: number[], arm: Arm): Promise<Step[]> {
  const { worker, close } = await armWorker(arm);
  pin(worker.pid, '1');
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const listenInfo = { protocol: 'udp' as const, ip: '127.0.0.1' };
  const { producer, inputPort } = await replayedVp8Producer(router);
  // No BWE: with no feedback from the sink, mediasoup would probe ~30 pkt/s per transport,
  // traffic a real receiver would not cause.
  const caps: types.RtpCapabilities = {
    ...router.rtpCapabilities,
    codecs: router.rtpCapabilities.codecs?.map((c) => ({
      ...c,
      rtcpFeedback: (c.rtcpFeedback ?? []).filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb'),
    })),
    headerExtensions: router.rtpCapabilities.headerExtensions?.filter(
      (h) => !h.uri.includes('transport-wide-cc'),
    ),
  };
  const sender = child('send.ts', [DATA, String(inputPort)]);
  const sink = child('sink.ts');
  await new Promise((r) => sink.once('message', r));
  pin(sender.pid!, '0');
  pin(sink.pid!, '0');

  const results: Step[] = [];
  const sinkPorts: number[] = [];
  let consumers = 0;
  for (const n of counts) {
    const { ports } = await ask<{ ports: number[] }>(sink, { cmd: 'open', n: n - consumers });
    sinkPorts.push(...ports);
    for (let i = 0; i < ports.length; i += 50) {
      await Promise.all(
        ports.slice(i, i + 50).map(async (port) => {
          const t = await router.createPlainTransport({
            listenInfo,
            rtcpMux: true,
            comedia: false,
            enableSrtp: srtp,
            srtpCryptoSuite: SUITE,
          });
          await t.connect({
            ip: '127.0.0.1',
            port,
            ...(srtp
              ? { srtpParameters: { cryptoSuite: SUITE, keyBase64: randomBytes(30).toString('base64') } }
              : {}),
          });
          await t.consume({ producerId: producer.id, rtpCapabilities: caps });
        }),
      );
    }
    consumers = n;
    await sleep(WARM_S * 1000);
    const s0 = await ask<{ sent: number; t: number }>(sender, {});
    const k0 = await ask<{ packets: number; lost: number }>(sink, { cmd: 'snap' });
    const d0 = udpDrops();
    const w0 = cpuNs(worker.pid);
    const sink0 = cpuNs(sink.pid!);
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const w1 = cpuNs(worker.pid);
    const sink1 = cpuNs(sink.pid!);
    const d1 = udpDrops();
    const t1 = performance.now();
    const k1 = await ask<{ packets: number; lost: number }>(sink, { cmd: 'snap' });
    const s1 = await ask<{ sent: number; t: number }>(sender, {});
    const seconds = (t1 - t0) / 1000;
    const workerCpuPct = ((w1 - w0) / 1e9 / seconds) * 100;
    const delivered = k1.packets - k0.packets;
    const lost = k1.lost - k0.lost;
    const deliveredPps = delivered / seconds;
    const step: Step = {
      consumers: n,
      workerInputDrops: dropsOn(d0, d1, [inputPort]),
      sinkDrops: dropsOn(d0, d1, sinkPorts),
      workerCpuPct,
      sinkCpuPct: ((sink1 - sink0) / 1e9 / seconds) * 100,
      deliveredPps,
      expectedPps: ((s1.sent - s0.sent) / ((s1.t - s0.t) / 1000)) * n,
      lossPct: delivered + lost > 0 ? (lost / (delivered + lost)) * 100 : 0,
      usPerPacket: deliveredPps > 0 ? (workerCpuPct / 100 / deliveredPps) * 1e6 : null,
    };
    results.push(step);
    console.log(
      `${arm.padEnd(7)} ${srtp ? 'srtp ' : 'plain'} N=${n}\tworker ${workerCpuPct.toFixed(1)} %\tsink ${step.sinkCpuPct.toFixed(1)} %` +
        `\t${deliveredPps.toFixed(0)} pkt/s` +
        `\tloss ${step.lossPct.toFixed(3)} %\tdrops in/sink ${step.workerInputDrops}/${step.sinkDrops}` +
        `\t${step.usPerPacket?.toFixed(2) ?? '-'} µs/pkt`,
    );
    if (step.lossPct > LOSS_LIMIT || workerCpuPct > 98) break;
  }
  sender.kill();
  sink.kill();
  close();
  return results;
}

/** Worker µs per packet, fitted on unsaturated steps. */
const usPerPacket = (steps: Step[]) =>
  slopeUsPerPacket(
    steps
      .filter((s) => s.lossPct < LOSS_LIMIT && s.workerCpuPct < 90)
      .map((s) => ({ pps: s.deliveredPps, cpuPct: s.workerCpuPct })),
  );

function summary(steps: Step[]) {
  const clean = steps.filter((s) => s.lossPct < LOSS_LIMIT && s.consumers > 0);
  const best = clean.at(-1);
  const last = steps.at(-1)!;
  const saturated = last.lossPct > LOSS_LIMIT || last.workerCpuPct > 98;
  // Where the kernel dropped packets says who fell behind: the worker's input socket or the sink's.
  const limitedBy = !saturated
    ? 'none (raise the steps)'
    : last.workerInputDrops >= last.sinkDrops
      ? 'worker (input socket drops)'
      : 'sink (receive drops)';
  return {
    usPerPacket: Number(usPerPacket(steps).toFixed(2)),
    consumersPerCoreMeasured: best?.consumers ?? 0,
    limitedBy,
    packetsPerSecondAtLimit: Math.round(best?.deliveredPps ?? 0),
  };
}

if (!existsSync(DATA)) console.log(`recorded ${await recordVp8(DATA)} VP8 packets to ${DATA}`);
pin(process.pid, '0');
const srtpSteps = steps('srtp-steps', '0,500,1000,1250,1500,1600,1700,1800,2000');
const plainSteps = steps('plain-steps', '0,1000,1500,1750,2000,2500');
// Tessera's worker and mediasoup's defaults (same binary), in an order that favours neither.
const srtp = await sweep(true, srtpSteps, 'tessera');
const bareSrtp = await sweep(true, srtpSteps, 'bare');
const barePlain = await sweep(false, plainSteps, 'bare');
const plain = await sweep(false, plainSteps, 'tessera');
const ratio = (ours: Step[], theirs: Step[]) =>
  Math.round((summary(ours).usPerPacket / summary(theirs).usPerPacket) * 1000) / 1000;
const report = {
  date: new Date().toISOString(),
  machine: { cores: 2, load: readFileSync('/proc/loadavg', 'utf8').trim() },
  method: {
    warmSeconds: WARM_S,
    measureSeconds: MEASURE_S,
    stream: 'VP8 640x480 800 kbit/s ~99 pkt/s',
    lossLimitPct: LOSS_LIMIT,
  },
  srtp: { summary: summary(srtp), steps: srtp },
  plain: { summary: summary(plain), steps: plain },
  bare: {
    what: 'mediasoup.createWorker() defaults, the same worker binary and transports',
    srtp: { summary: summary(bareSrtp), steps: bareSrtp },
    plain: { summary: summary(barePlain), steps: barePlain },
  },
  ratioToBare: { srtp: ratio(srtp, bareSrtp), plain: ratio(plain, barePlain) },
};
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'results',
  `forwarding-${report.date.slice(0, 10)}.json`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  JSON.stringify(
    { srtp: report.srtp.summary, plain: report.plain.summary, ratioToBare: report.ratioToBare },
    null,
    2,
  ),
);
console.log(`wrote ${out}`);
process.exit(0);
