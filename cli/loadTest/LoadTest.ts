import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TesseraClient } from '../../client/TesseraClient.ts';
import { type ServerFigures, scrapeServer } from './metrics.ts';
import { SyntheticMedia, type SyntheticVideo, useLibWebRtc, useWerift } from './nodeWebRtc.ts';

export interface LoadTestOptions {
  /** The deployment's HTTP base URL. */
  url: string;
  signalingUrl?: string;
  publishers: number;
  subscribers: number;
  /** How long to measure once everyone receives everything (ms). */
  durationMs: number;
  video: SyntheticVideo;
  audio: boolean;
  /** Joins in flight at once. */
  concurrency: number;
  /** A join token for a simulated user (the caller issues it through the management API). */
  token: (user: string, as: 'publisher' | 'subscriber') => Promise<string>;
  /** Where the server's Prometheus metrics are (`<url>/metrics` on the embedded server); none to skip. */
  metricsUrl?: string;
  /** How long subscribers may take to receive every track before measuring anyway (ms). */
  settleTimeoutMs?: number;
  onProgress?: (progress: LoadTestProgress) => void;
}

export type LoadTestPhase = 'publishing' | 'subscribing' | 'settling' | 'measuring' | 'leaving';

export interface LoadTestProgress {
  phase: LoadTestPhase;
  publishers: number;
  subscribers: number;
  /** Remote tracks the subscribers hold, of `expectedTracks`. */
  tracks: number;
  expectedTracks: number;
  failures: number;
  elapsedMs: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadTestResult {
  publishers: { joined: number; joinMs: Percentiles };
  subscribers: { joined: number; joinMs: Percentiles; allTracksMs: Percentiles };
  failures: string[];
  windowMs: number;
  /** Measured by the simulated clients over the window. */
  client: {
    tracks: number;
    expectedTracks: number;
    sentBps: number;
    receivedBps: number;
    packetsReceived: number;
    packetsLost: number;
    lossRatio: number;
  };
  /**
   * The load tester's own health over the window: its CPU (cores) and event-loop delay. A
   * saturated tester starves its encoders and drops packets itself: its figures are then its own.
   */
  tester: { cores: number; eventLoopP99Ms: number; saturated: boolean };
  /** Read from /metrics: counts at the end, rates averaged over per-second reads, CPU over the window. */
  server?: Omit<ServerFigures, 'processCpuSeconds'> & { processCores: number };
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN;
  return {
    n: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

interface Simulated {
  client: TesseraClient;
  tracks: number;
}

interface Counters {
  /** RTP bytes, headers included (as the server's bitrates count them). */
  sentBytes: number;
  receivedBytes: number;
  packetsReceived: number;
  packetsLost: number;
  /** When the statistics were read (the middle of the reads: a busy host takes a while). */
  at: number;
}

/**
 * `tessera load-test`: simulated publishers (libwebrtc in Node, synthetic camera) and
 * subscribers (werift, receiving every publisher) join one room with bounded concurrency; once the
 * subscribers hold every track, the clients' WebRTC statistics and the server's /metrics are read
 * over a window, and everyone leaves.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  useLibWebRtc();
  const started = performance.now();
  const media = new SyntheticMedia(options.video, options.audio);
  const publishers: Simulated[] = [];
  const subscribers: Simulated[] = [];
  const failures: string[] = [];
  const publisherJoins: number[] = [];
  const subscriberJoins: number[] = [];
  const allTracks: number[] = [];
  const tracksPerPublisher = options.audio ? 2 : 1;
  const expectedTracks = options.subscribers * options.publishers * tracksPerPublisher;
  let phase: LoadTestPhase = 'publishing';
  const progress = () =>
    options.onProgress?.({
      phase,
      publishers: publishers.length,
      subscribers: subscribers.length,
      tracks: subscribers.reduce((sum, s) => sum + s.tracks, 0),
      expectedTracks,
      failures: failures.length,
      elapsedMs: Math.round(performance.now() - started),
    });
  const ticker = setInterval(progress, 1000);
  progress();

  const join = async (user: string, as: 'publisher' | 'subscriber'): Promise<Simulated> => {
    const client = await TesseraClient.join({
      url: options.url,
      ...(options.signalingUrl ? { signalingUrl: options.signalingUrl } : {}),
      token: await options.token(user, as),
      handlerName: 'Chrome111',
      autoSubscribe: as === 'subscriber',
      // The SDK's path check reads every transport's WebRTC stats each 2 s: for 80 simulated
      // users in one process that alone saturates a core. A load test does not rejoin anyway.
      healthCheckMs: 0,
    });
    return { client, tracks: 0 };
  };

  try {
    await inBatches(options.publishers, options.concurrency, async (i) => {
      const t0 = performance.now();
      try {
        const simulated = await join(`load-pub-${i}`, 'publisher');
        publishers.push(simulated);
        await simulated.client.publish(media.stream(options.audio));
        publisherJoins.push(performance.now() - t0);
      } catch (error) {
        failures.push(`publisher ${i}: ${reason(error)}`);
      }
    });
    phase = 'subscribing';
    progress();
    // Publishers' peer connections are all made (they receive nothing): subscribers get werift's.
    useWerift();
    // Only publishers that did publish: one that joined and then failed sends nothing to wait for.
    const expectedEach = publisherJoins.length * tracksPerPublisher;
    const everyTrack: Promise<void>[] = [];
    await inBatches(options.subscribers, options.concurrency, async (i) => {
      const t0 = performance.now();
      try {
        const simulated = await join(`load-sub-${i}`, 'subscriber');
        subscriberJoins.push(performance.now() - t0);
        subscribers.push(simulated);
        // A 'track' listener is first given the tracks the login already brought.
        everyTrack.push(
          new Promise<void>((resolve) => {
            const check = () => {
              if (simulated.tracks < expectedEach) return;
              allTracks.push(performance.now() - t0);
              resolve();
            };
            simulated.client.on('track', () => {
              simulated.tracks++;
              check();
            });
            check();
          }),
        );
      } catch (error) {
        failures.push(`subscriber ${i}: ${reason(error)}`);
      }
    });
    phase = 'settling';
    progress();
    await Promise.race([Promise.all(everyTrack), delay(options.settleTimeoutMs ?? 30_000)]);

    phase = 'measuring';
    progress();
    const scrape = () =>
      options.metricsUrl ? scrapeServer(options.metricsUrl).catch(() => undefined) : undefined;
    const [before, serverBefore] = await Promise.all([count(publishers, subscribers), scrape()]);
    const windowStart = before.at;
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const cpuBefore = process.cpuUsage();
    // The server's rates cover its last second (and it caches a read for a second): read them
    // a little more than a second apart over the window, and average.
    const serverSamples: ServerFigures[] = [];
    let lastScrapeAt = windowStart;
    while (performance.now() - windowStart < options.durationMs) {
      await delay(Math.min(SCRAPE_EVERY_MS, options.durationMs - (performance.now() - windowStart)));
      const sample = await scrape();
      if (sample) serverSamples.push(sample);
      lastScrapeAt = performance.now();
    }
    const after = await count(publishers, subscribers);
    const windowMs = after.at - before.at;
    lag.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const testerCores = (cpu.user + cpu.system) / 1000 / windowMs;
    const eventLoopP99Ms = lag.percentile(99) / 1e6;
    const bps = (bytes: number) => Math.round((bytes * 8 * 1000) / windowMs);
    const received = after.packetsReceived - before.packetsReceived;
    const lost = Math.max(0, after.packetsLost - before.packetsLost);
    const result: LoadTestResult = {
      publishers: { joined: publisherJoins.length, joinMs: percentiles(publisherJoins) },
      subscribers: {
        joined: subscriberJoins.length,
        joinMs: percentiles(subscriberJoins),
        allTracksMs: percentiles(allTracks),
      },
      failures,
      windowMs: Math.round(windowMs),
      tester: {
        cores: testerCores,
        eventLoopP99Ms: Math.round(eventLoopP99Ms),
        saturated: eventLoopP99Ms > SATURATED_LAG_MS || testerCores > SATURATED_CORES,
      },
      client: {
        tracks: subscribers.reduce((sum, s) => sum + s.tracks, 0),
        expectedTracks,
        sentBps: bps(after.sentBytes - before.sentBytes),
        receivedBps: bps(after.receivedBytes - before.receivedBytes),
        packetsReceived: received,
        packetsLost: lost,
        lossRatio: received + lost > 0 ? lost / (received + lost) : 0,
      },
    };
    const last = serverSamples.at(-1);
    if (serverBefore && last) {
      const mean = (pick: (f: ServerFigures) => number) =>
        serverSamples.reduce((sum, f) => sum + pick(f), 0) / serverSamples.length;
      const elapsed = (lastScrapeAt - windowStart) / 1000;
      result.server = {
        participants: last.participants,
        producers: last.producers,
        consumers: last.consumers,
        rtpInBps: Math.round(mean((f) => f.rtpInBps)),
        rtpOutBps: Math.round(mean((f) => f.rtpOutBps)),
        lossRatio: mean((f) => f.lossRatio),
        workerCores: mean((f) => f.workerCores),
        processCores: (last.processCpuSeconds - serverBefore.processCpuSeconds) / elapsed,
      };
    }
    return result;
  } finally {
    phase = 'leaving';
    clearInterval(ticker);
    progress();
    await Promise.allSettled([...publishers, ...subscribers].map((s) => s.client.leave()));
    media.close();
  }
}

/** Sums the clients' transport-level bytes and their inbound RTP packet counts. */
async function count(publishers: Simulated[], subscribers: Simulated[]): Promise<Counters> {
  const started = performance.now();
  const reports = await Promise.all(
    [...publishers, ...subscribers].map((s) => s.client.transportStats().catch(() => ({}))),
  );
  const totals: Counters = {
    sentBytes: 0,
    receivedBytes: 0,
    packetsReceived: 0,
    packetsLost: 0,
    at: (started + performance.now()) / 2,
  };
  for (const { send, recv } of reports as { send?: RTCStatsReport; recv?: RTCStatsReport }[]) {
    for (const report of [send, recv])
      report?.forEach((s: Record<string, number | string>) => {
        if (s.type === 'outbound-rtp')
          totals.sentBytes += Number(s.bytesSent ?? 0) + Number(s.headerBytesSent ?? 0);
        if (s.type === 'inbound-rtp') {
          totals.receivedBytes += Number(s.bytesReceived ?? 0) + Number(s.headerBytesReceived ?? 0);
          totals.packetsReceived += Number(s.packetsReceived ?? 0);
          totals.packetsLost += Math.max(0, Number(s.packetsLost ?? 0));
        }
      });
  }
  return totals;
}

/** Runs `task(0…n-1)` with at most `limit` in flight. */
async function inBatches(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, n)) }, lane));
}

const SCRAPE_EVERY_MS = 1100;
/**
 * Beyond these the tester, not the server, is the bottleneck: werift reads and acknowledges
 * packets on the event loop, and libwebrtc's encoders need the host's other cores.
 */
const SATURATED_LAG_MS = 250;
const SATURATED_CORES = 0.9 * availableParallelism();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));
