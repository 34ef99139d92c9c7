import { z } from 'zod';
import type { BarChart } from './charts.ts';

/** One benchmark's part of BENCHMARKS.md, from its newest results file. */
export interface Section {
  title: string;
  /** What is measured, and against which baseline. */
  method: string;
  /** A Markdown table: its header and rows. */
  table: { head: string[]; rows: (string | number)[][] };
  chart: BarChart;
}

export interface Report {
  kind: string;
  title: string;
  /** Reads one results file (throws with zod's message when the file's shape is not this bench's). */
  section(json: unknown): Section;
}

const pair = z.object({ p50: z.number(), p95: z.number() });

/** A p50 and a p95 bar per category. */
const percentileBars = (entries: [string, { p50: number; p95: number }][]) =>
  entries.flatMap(([category, p]) => [
    { category, series: 'p50', value: p.p50 },
    { category, series: 'p95', value: p.p95 },
  ]);
const fixed = (x: number, digits = 1) => Number(x.toFixed(digits));

const mcu = z.object({
  summary: z.array(
    z.object({
      grid: z.string(),
      bareCpuPctOfCore: z.number(),
      tesseraCpuPctOfCore: z.number(),
      cpuRatio: z.number(),
      bareOutFps: z.number(),
      tesseraOutFps: z.number(),
      bareFirstFrameMs: z.number(),
      tesseraFirstFrameMs: z.number(),
    }),
  ),
  latency: z.array(z.object({ grid: z.string(), addedP50Ms: z.number(), addedP95Ms: z.number() })).optional(),
});

const streamingCpu = z.object({
  cpuPercentOfCore: z.record(
    z.string(),
    z.object({ tesseraPercentOfCore: z.number(), bareFfmpegPercentOfCore: z.number(), ratio: z.number() }),
  ),
});

const streamingLatency = z.object({ latencyMs: z.record(z.string(), pair.extend({ n: z.number() })) });

const rate = z.object({ median: z.number() });
const tokens = z.object({
  noneOutstanding: rate,
  outstanding: rate.extend({ tokens: z.number() }),
  ratio: z.number(),
  previousLedgerSameSitting: z
    .object({ noneOutstanding: rate, outstanding: rate, ratio: z.number() })
    .optional(),
});

const placement = z.object({
  nodes: z.number(),
  results: z.array(
    z.object({
      label: z.string(),
      inFlight: z.number(),
      p50ms: z.number(),
      p99ms: z.number(),
      decisionsPerSecond: z.number(),
      redisRoundTripsPerDecision: z.number().optional(),
    }),
  ),
});

const joins = z.object({
  goal: z.object({ joinsPerSecondPerCore: z.number() }),
  summary: z.object({
    joinsPerSecondPerCore: z.number(),
    joinsPerSecond: z.number(),
    cpuMsPerJoin: z.number(),
    p50Ms: z.number(),
    p95Ms: z.number(),
  }),
  samples: z.array(z.object({ joinsPerSecond: z.number(), byProcess: z.record(z.string(), z.number()) })),
  /** Since 2026-12-03 afternoon. */
  burst: z.object({ logins: z.number(), medianMs: z.number() }).optional(),
});

const controlPlane = z.object({
  goal: z.object({ rpsPerCore: z.number() }),
  summary: z.record(
    z.string(),
    z.object({
      rpsPerCore: z.number(),
      rps: z.number(),
      cores: z.number(),
      p50Ms: z.number(),
      p99Ms: z.number(),
      dynamodbCores: z.number(),
      redisCores: z.number(),
    }),
  ),
  ratioToBaseline: z.record(z.string(), z.number()),
});

const ttff = z.object({
  joins: z.number(),
  summary: z.record(z.string(), pair),
  /** Runs from 2026-12-02 on: bare mediasoup joined alternately, in the same sitting. */
  baseline: z.object({ summary: z.record(z.string(), pair) }).optional(),
  ratio: z.object({ p50: z.number(), p95: z.number() }).optional(),
  host: z
    .object({ loadavg: z.object({ before: z.array(z.number()), after: z.array(z.number()) }) })
    .optional(),
});

const forwardingPath = z.object({
  summary: z.object({ usPerPacket: z.number(), consumersPerCoreMeasured: z.number(), limitedBy: z.string() }),
});
const forwarding = z.object({
  srtp: forwardingPath,
  plain: forwardingPath,
  /** From 2026-12-03 on: mediasoup's defaults with the same binary, swept in the same sitting. */
  bare: z.object({ srtp: forwardingPath, plain: forwardingPath }).optional(),
  ratioToBare: z.object({ srtp: z.number(), plain: z.number() }).optional(),
});
const forwardingWebRtc = z.object({
  goal: z.object({ ratio: z.number() }),
  summary: z.object({
    usPerPacket: z.object({ tessera: z.number(), bare: z.number() }),
    ratio: z.number(),
  }),
  rounds: z.array(z.object({ usPerPacket: z.object({ tessera: z.number(), bare: z.number() }) })),
});

const failover = z.object({
  clients: z.number(),
  summaries: z.record(
    z.string(),
    z.object({
      rejoined: z.string(),
      detectP50: z.number(),
      rejoinP50: z.number(),
      rejoinP95: z.number(),
      gapP50: z.number(),
      gapP95: z.number(),
    }),
  ),
});

export const REPORTS: Report[] = [
  {
    kind: 'mcu',
    title: 'MCU: mixing a grid into 1280×720 H.264',
    section(json) {
      const r = mcu.parse(json);
      const latency = new Map((r.latency ?? []).map((l) => [l.grid, l]));
      return {
        title: this.title,
        method:
          'The same composition (testsrc2 inputs over RTP, x264 ultrafast zerolatency at 1.5 Mbit/s, 30 fps) run by a bare ffmpeg command and by Tessera’s VideoMixer, one after the other in one sitting. CPU counts every process of each (decoders, compositor, encoder). Goals: ≤ 1.15× bare, ≤ 25 % of a core for a 2×2.',
        table: {
          head: [
            'grid',
            'bare % of a core',
            'Tessera % of a core',
            'ratio',
            'fps bare / Tessera',
            'first frame bare / Tessera (ms)',
            'added latency p50 / p95 (ms)',
          ],
          rows: r.summary.map((s) => {
            const l = latency.get(s.grid);
            return [
              s.grid,
              s.bareCpuPctOfCore,
              s.tesseraCpuPctOfCore,
              `${s.cpuRatio}×`,
              `${s.bareOutFps} / ${s.tesseraOutFps}`,
              `${s.bareFirstFrameMs} / ${s.tesseraFirstFrameMs}`,
              l ? `${l.addedP50Ms} / ${l.addedP95Ms}` : '–',
            ];
          }),
        },
        chart: {
          title: 'Mixing CPU',
          unit: '% of one core',
          bars: r.summary.flatMap((s) => [
            { category: s.grid, series: 'bare ffmpeg', value: s.bareCpuPctOfCore },
            { category: s.grid, series: 'Tessera', value: s.tesseraCpuPctOfCore },
          ]),
        },
      };
    },
  },
  {
    kind: 'streaming-cpu',
    title: 'Streaming out, recording and transcoding: CPU',
    section(json) {
      const r = streamingCpu.parse(json);
      const jobs = Object.entries(r.cpuPercentOfCore);
      return {
        title: this.title,
        method:
          'One job at a time on a 640×480 VP8 source: Tessera’s pipeline (ffmpeg, Node and the worker above idle) against a bare ffmpeg doing the same job from the same RTP, in one sitting.',
        table: {
          head: ['job', 'bare ffmpeg % of a core', 'Tessera % of a core', 'ratio'],
          rows: jobs.map(([job, j]) => [
            job,
            j.bareFfmpegPercentOfCore,
            j.tesseraPercentOfCore,
            `${j.ratio}×`,
          ]),
        },
        chart: {
          title: 'Pipeline CPU',
          unit: '% of one core',
          bars: jobs.flatMap(([job, j]) => [
            { category: job, series: 'bare ffmpeg', value: j.bareFfmpegPercentOfCore },
            { category: job, series: 'Tessera', value: j.tesseraPercentOfCore },
          ]),
        },
      };
    },
  },
  {
    kind: 'streaming',
    title: 'Streaming-in latency',
    section(json) {
      const r = streamingLatency.parse(json);
      const paths = Object.entries(r.latencyMs);
      return {
        title: this.title,
        method:
          'A probe’s brightness flash timed from the source to a decoded output: forwarded by the SFU (the baseline), pushed over RTMP, pulled over HLS.',
        table: {
          head: ['path', 'flashes', 'p50 (ms)', 'p95 (ms)'],
          rows: paths.map(([path, l]) => [path, l.n, l.p50, l.p95]),
        },
        chart: {
          title: 'Latency, source to decoded frame',
          unit: 'ms',
          bars: percentileBars(paths),
        },
      };
    },
  },
  {
    kind: 'tokens',
    title: 'Token issue with outstanding tokens (embedded)',
    section(json) {
      const r = tokens.parse(json);
      const previous = r.previousLedgerSameSitting;
      const rows: (string | number)[][] = [
        ['this ledger', r.noneOutstanding.median, r.outstanding.median, `${r.ratio}×`],
      ];
      if (previous)
        rows.push([
          'the previous ledger',
          previous.noneOutstanding.median,
          previous.outstanding.median,
          `${previous.ratio}×`,
        ]);
      const label = `${r.outstanding.tokens.toLocaleString('en')} outstanding`;
      return {
        title: this.title,
        method:
          'POST /v1/rooms/{room}/tokens over HTTP, 8 in flight, on a fresh server and on one holding the outstanding tokens, alternately. Goal: the rate flat within ±10 %.',
        table: { head: ['ledger', 'tokens/s, none outstanding', `tokens/s, ${label}`, 'ratio'], rows },
        chart: {
          title: 'Token issue rate',
          unit: 'tokens per second (median)',
          bars: [
            { category: 'none outstanding', series: 'this ledger', value: r.noneOutstanding.median },
            { category: label, series: 'this ledger', value: r.outstanding.median },
            ...(previous
              ? [
                  {
                    category: 'none outstanding',
                    series: 'previous ledger',
                    value: previous.noneOutstanding.median,
                  },
                  { category: label, series: 'previous ledger', value: previous.outstanding.median },
                ]
              : []),
          ],
        },
      };
    },
  },
  {
    kind: 'placement',
    title: 'Room placement',
    section(json) {
      const r = placement.parse(json);
      return {
        title: this.title,
        method: `RoomPlacer against a real redis-server with ${r.nodes} simulated nodes reporting every second from their own process. Goal: p99 ≤ 2 ms sequential, ≤ 5 Redis round trips per decision.`,
        table: {
          head: ['run', 'in flight', 'p50 (ms)', 'p99 (ms)', 'decisions/s', 'round trips per decision'],
          rows: r.results.map((x) => [
            x.label,
            x.inFlight,
            x.p50ms,
            x.p99ms,
            x.decisionsPerSecond,
            x.redisRoundTripsPerDecision ?? '–',
          ]),
        },
        chart: {
          title: 'Placement decision latency',
          unit: 'ms',
          bars: r.results.flatMap((x) => [
            { category: x.label, series: 'p50', value: x.p50ms },
            { category: x.label, series: 'p99', value: x.p99ms },
          ]),
        },
      };
    },
  },
  {
    kind: 'joins',
    title: 'Joins per core across the local cluster',
    section(json) {
      const r = joins.parse(json);
      const last = r.samples.at(-1)!;
      const msPerJoin = Object.entries(last.byProcess).map(
        ([name, cores]) =>
          [name, Math.round((cores / Math.max(last.joinsPerSecond, 1)) * 10_000) / 10] as const,
      );
      return {
        title: this.title,
        method: `Token (REST), signaling WebSocket, login (placement, two transports), logout, close; clients with bounded concurrency; the CPU of every cluster process (the node's workers included), the stores apart. ${r.summary.joinsPerSecond} joins/s, p50 ${r.summary.p50Ms} ms, p95 ${r.summary.p95Ms} ms. Goal: ≥ ${r.goal.joinsPerSecondPerCore} joins/s per core.${r.burst ? ` ${r.burst.logins} logins into one room at once are all answered after ${r.burst.medianMs} ms (median of 5 bursts).` : ''}`,
        table: {
          head: ['process', 'CPU ms per join'],
          rows: [
            ...msPerJoin.map(([name, ms]) => [name, ms]),
            [`all (joins/s per core: ${r.summary.joinsPerSecondPerCore})`, r.summary.cpuMsPerJoin],
          ],
        },
        chart: {
          title: 'CPU per join, by process',
          unit: 'ms per join',
          bars: msPerJoin.map(([name, ms]) => ({ category: name, series: 'measured', value: ms })),
        },
      };
    },
  },
  {
    kind: 'control-plane',
    title: 'Control plane: requests per core',
    section(json) {
      const r = controlPlane.parse(json);
      const rows = Object.entries(r.summary);
      return {
        title: this.title,
        method: `autocannon against the management functions process (Redis, DynamoDB Local, SQS emulator) and a minimal hono app, rounds alternating; each target's CPU from /proc, the emulators' apart. Goal: ≥ ${r.goal.rpsPerCore} requests/s per core for a token issue and a room read.`,
        table: {
          head: [
            'request',
            'requests/s',
            'cores',
            'requests/s per core',
            'ratio to baseline',
            'p50 (ms)',
            'p99 (ms)',
            'DynamoDB Local (cores)',
          ],
          rows: rows.map(([name, x]) => [
            name,
            x.rps,
            x.cores,
            x.rpsPerCore,
            r.ratioToBaseline[name] ?? '–',
            x.p50Ms,
            x.p99Ms,
            x.dynamodbCores,
          ]),
        },
        chart: {
          title: 'Requests per second per core of the serving process',
          unit: 'requests/s per core',
          bars: rows.map(([name, x]) => ({ category: name, series: 'measured', value: x.rpsPerCore })),
        },
      };
    },
  },
  ...(['embedded', 'cluster'] as const).map(
    (mode): Report => ({
      kind: `ttff-${mode}`,
      title: `Time to first frame (${mode})`,
      section(json) {
        const r = ttff.parse(json);
        const stages = Object.entries(r.summary);
        const bare = r.baseline?.summary;
        const load = r.host ? ` Load average ${r.host.loadavg.before[0]} → ${r.host.loadavg.after[0]}.` : '';
        return {
          title: this.title,
          method: bare
            ? `${r.joins} joins by headless Chromium, each alternating with a join against bare mediasoup (same worker binary and router codecs, the least signaling: \`bench/ttff/bareSfu.ts\`). fromJoin: from the start of the join to the first decoded frame; other stages since the WebSocket opened (round trips: their durations). **Tessera / bare mediasoup, first frame from the start of the join: p50 ${r.ratio?.p50}×, p95 ${r.ratio?.p95}×.**${load}`
            : `${r.joins} joins by headless Chromium, each stage’s time since the WebSocket opened (round trips: their durations). No bare-mediasoup baseline in this run.`,
          table: {
            head: bare
              ? ['stage', 'p50 (ms)', 'p95 (ms)', 'bare p50 (ms)', 'bare p95 (ms)']
              : ['stage', 'p50 (ms)', 'p95 (ms)'],
            rows: stages.map(([stage, s]) => [
              stage,
              fixed(s.p50),
              fixed(s.p95),
              ...(bare
                ? [bare[stage] ? fixed(bare[stage].p50) : '', bare[stage] ? fixed(bare[stage].p95) : '']
                : []),
            ]),
          },
          chart: {
            title: `Join stages (${mode})`,
            unit: 'ms',
            bars: percentileBars(stages),
          },
        };
      },
    }),
  ),
  {
    kind: 'forwarding',
    title: 'SFU forwarding cost',
    section(json) {
      const r = forwarding.parse(json);
      const paths = [
        ['SRTP (WebRtcTransport crypto)', r.srtp.summary],
        ['plain RTP', r.plain.summary],
      ] as const;
      return {
        title: this.title,
        method:
          'One VP8 stream fanned out to growing numbers of consumers on one worker until packets drop; the worker’s CPU per forwarded packet.',
        table: {
          head: [
            'path',
            'µs per packet',
            'consumers per core',
            'limited by',
            ...(r.bare ? ['bare mediasoup µs per packet', 'ratio'] : []),
          ],
          rows: paths.map(([path, s], i) => [
            path,
            s.usPerPacket,
            s.consumersPerCoreMeasured,
            s.limitedBy,
            ...(r.bare && r.ratioToBare
              ? i === 0
                ? [r.bare.srtp.summary.usPerPacket, r.ratioToBare.srtp]
                : [r.bare.plain.summary.usPerPacket, r.ratioToBare.plain]
              : []),
          ]),
        },
        chart: {
          title: 'Worker CPU per forwarded packet',
          unit: 'µs per packet',
          bars: paths.flatMap(([path, s], i) => [
            { category: path, series: 'Tessera', value: s.usPerPacket },
            ...(r.bare
              ? [
                  {
                    category: path,
                    series: 'bare mediasoup',
                    value: (i === 0 ? r.bare.srtp : r.bare.plain).summary.usPerPacket,
                  },
                ]
              : []),
          ]),
        },
      };
    },
  },
  {
    kind: 'forwarding-webrtc',
    title: 'SFU forwarding over WebRtcTransports, against bare mediasoup',
    section(json) {
      const r = forwardingWebRtc.parse(json);
      return {
        title: this.title,
        method: `One VP8 stream to growing numbers of WebRTC receivers (werift: ICE consent, DTLS, SRTP, RTCP feedback); worker CPU per forwarded packet, Tessera's worker and transport options against mediasoup's defaults with the same binary, sweeps alternating. Goal: ratio ≤ ${r.goal.ratio}.`,
        table: {
          head: ['round', 'Tessera µs per packet', 'bare mediasoup µs per packet', 'ratio'],
          rows: [
            ...r.rounds.map((x, i) => [
              i + 1,
              x.usPerPacket.tessera,
              x.usPerPacket.bare,
              Math.round((x.usPerPacket.tessera / x.usPerPacket.bare) * 100) / 100,
            ]),
            ['median', r.summary.usPerPacket.tessera, r.summary.usPerPacket.bare, r.summary.ratio],
          ],
        },
        chart: {
          title: 'Worker CPU per forwarded packet (WebRtcTransport)',
          unit: 'µs per packet',
          bars: r.rounds.flatMap((x, i) => [
            { category: `round ${i + 1}`, series: 'Tessera', value: x.usPerPacket.tessera },
            { category: `round ${i + 1}`, series: 'bare mediasoup', value: x.usPerPacket.bare },
          ]),
        },
      };
    },
  },
  {
    kind: 'failover',
    title: 'Media node failover',
    section(json) {
      const r = failover.parse(json);
      const runs = Object.entries(r.summaries);
      return {
        title: this.title,
        method: `${r.clients} clients on two nodes; one node is killed (SIGKILL); times since the kill.`,
        table: {
          head: [
            'scenario',
            'rejoined',
            'detect p50 (ms)',
            'rejoin p50 / p95 (ms)',
            'media gap p50 / p95 (ms)',
          ],
          rows: runs.map(([name, s]) => [
            name,
            s.rejoined,
            s.detectP50,
            `${s.rejoinP50} / ${s.rejoinP95}`,
            `${s.gapP50} / ${s.gapP95}`,
          ]),
        },
        chart: {
          title: 'Failover',
          unit: 'ms since the kill',
          bars: runs.flatMap(([name, s]) => [
            { category: 'detected', series: name, value: s.detectP50 },
            { category: 'rejoined', series: name, value: s.rejoinP50 },
            { category: 'media back', series: name, value: s.gapP50 },
          ]),
        },
      };
    },
  },
];
