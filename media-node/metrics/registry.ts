import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TesseraEvent } from '../../shared/protocol/events.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';

/** Transports and producers whose stats one scrape asks mediasoup for, at most (bounded cost). */
const MAX_STATS_OBJECTS = 2000;
/** Scrapes closer together than this reuse the last stats. */
const STATS_TTL_MS = 1000;

/** What the media node's parts report as they work (handed to CommandProcessor and NodeSignaling). */
export interface NodeObservers {
  commandProcessed(type: string): void;
  commandDeadLettered(): void;
  signalingAnswered(method: string, ok: boolean, seconds: number): void;
  event(event: TesseraEvent): void;
}

/** What the gauges read on each scrape: the node's rooms and workers. */
export interface MetricsSource {
  rooms: RoomRegistry;
  workers: WorkerPool;
}

interface MediaStats {
  bitrateIn: number;
  bitrateOut: number;
  /** Media RTP only: no RTCP, retransmissions or bandwidth probes (what clients count as media). */
  rtpIn: number;
  rtpOut: number;
  packetsLost: number;
  packets: number;
}

/**
 * The media node's Prometheus metrics (prom-client), one registry per node. Counts (rooms,
 * participants, producers, consumers) are read from the room registry on scrape; bitrate and
 * loss from mediasoup stats on scrape (bounded, cached a second); worker CPU from the workers'
 * resource usage; pipeline CPU from a callback the pipelines register; counters and the
 * signaling latency histogram from the observers.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly observers: NodeObservers;
  #source: MetricsSource | undefined;
  #pipelineCpu: (() => number) | undefined;
  #stats: { at: number; value: Promise<MediaStats> } | undefined;
  readonly #lastCpu = new Map<number, { cpuMs: number; at: number }>();

  constructor(labels: { nodeId: string }) {
    const registry = this.registry;
    registry.setDefaultLabels({ node: labels.nodeId });
    collectDefaultMetrics({ register: registry, prefix: 'tessera_process_' });
    const self = this;
    const count = (name: string, help: string, of: (s: MetricsSource) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(self.#source ? of(self.#source) : 0);
        },
      });
    const peers = (s: MetricsSource) => [...s.rooms.rooms.values()].flatMap((r) => [...r.peers.values()]);
    count('tessera_rooms', 'Rooms open on this node', (s) => s.rooms.rooms.size);
    count('tessera_participants', 'Participants connected to this node', (s) => peers(s).length);
    count('tessera_producers', 'Audio and video streams published on this node', (s) =>
      peers(s).reduce((n, p) => n + p.producers.size, 0),
    );
    count('tessera_consumers', 'Media and data streams received from this node', (s) =>
      peers(s).reduce((n, p) => n + p.consumers.size + p.dataConsumers.size, 0),
    );
    const media = (name: string, help: string, of: (m: MediaStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(of(await self.#mediaStats()));
        },
      });
    media('tessera_bitrate_in_bps', 'Bits per second received from participants', (m) => m.bitrateIn);
    media('tessera_bitrate_out_bps', 'Bits per second sent to participants', (m) => m.bitrateOut);
    media(
      'tessera_rtp_bitrate_in_bps',
      'Bits per second of media RTP received (no RTCP, retransmissions or probes)',
      (m) => m.rtpIn,
    );
    media(
      'tessera_rtp_bitrate_out_bps',
      'Bits per second of media RTP sent (no RTCP, retransmissions or probes)',
      (m) => m.rtpOut,
    );
    media(
      'tessera_packets_lost',
      'RTP packets lost on the way in, over the live streams',
      (m) => m.packetsLost,
    );
    media('tessera_packet_loss_ratio', 'Share of incoming RTP packets lost, over the live streams', (m) =>
      m.packets + m.packetsLost > 0 ? m.packetsLost / (m.packets + m.packetsLost) : 0,
    );
    new Gauge({
      name: 'tessera_worker_cpu_ratio',
      help: 'CPU share of each mediasoup worker since the previous scrape (1 = one core)',
      labelNames: ['worker'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [index, ratio] of await self.#workerCpu()) this.set({ worker: String(index) }, ratio);
      },
    });
    new Gauge({
      name: 'tessera_pipeline_cpu_ratio',
      help: 'CPU share of the media pipelines (ffmpeg and the like; 1 = one core)',
      registers: [registry],
      collect() {
        this.set(self.#pipelineCpu?.() ?? 0);
      },
    });
    const processed = new Counter({
      name: 'tessera_commands_processed_total',
      help: 'Commands this node took off its queue and handled',
      labelNames: ['type'],
      registers: [registry],
    });
    const deadLettered = new Counter({
      name: 'tessera_commands_dead_lettered_total',
      help: 'Commands this node sent to the dead-letter queue',
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'tessera_signaling_latency_seconds',
      help: 'Time from a signaling request reaching this node to its answer being sent',
      labelNames: ['method', 'ok'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const events = new Counter({
      name: 'tessera_events_total',
      help: 'Events this node published, by type',
      labelNames: ['type'],
      registers: [registry],
    });
    this.observers = {
      commandProcessed: (type) => processed.inc({ type }),
      commandDeadLettered: () => deadLettered.inc(),
      signalingAnswered: (method, ok, seconds) => latency.observe({ method, ok: String(ok) }, seconds),
      event: (e) => events.inc({ type: e.type }),
    };
  }

  /** Starts reading the node's rooms and workers (once the node is up). */
  watch(source: MetricsSource): void {
    this.#source = source;
  }

  /** Where pipeline CPU comes from (the pipelines' registry; cores in use, summed). */
  setPipelineCpu(read: () => number): void {
    this.#pipelineCpu = read;
  }

  /** The text exposition Prometheus scrapes. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #mediaStats(): Promise<MediaStats> {
    const now = Date.now();
    if (!this.#stats || now - this.#stats.at > STATS_TTL_MS)
      this.#stats = { at: now, value: this.#readStats() };
    return this.#stats.value;
  }

  async #readStats(): Promise<MediaStats> {
    const total: MediaStats = {
      bitrateIn: 0,
      bitrateOut: 0,
      rtpIn: 0,
      rtpOut: 0,
      packetsLost: 0,
      packets: 0,
    };
    const source = this.#source;
    if (!source) return total;
    const transports = [];
    const producers = [];
    for (const room of source.rooms.rooms.values())
      for (const peer of room.peers.values()) {
        transports.push(...peer.transports.values());
        for (const { producer } of peer.producers.values()) producers.push(producer);
      }
    const ignore = () => [];
    await Promise.all([
      ...transports.slice(0, MAX_STATS_OBJECTS).map(async (t) => {
        for (const s of await t.getStats().catch(ignore)) {
          total.bitrateIn += s.recvBitrate;
          total.bitrateOut += s.sendBitrate;
          total.rtpIn += s.rtpRecvBitrate;
          total.rtpOut += s.rtpSendBitrate;
        }
      }),
      ...producers.slice(0, MAX_STATS_OBJECTS).map(async (p) => {
        for (const s of await p.getStats().catch(ignore)) {
          total.packetsLost += Math.max(0, s.packetsLost);
          total.packets += s.packetCount;
        }
      }),
    ]);
    return total;
  }

  async #workerCpu(): Promise<[number, number][]> {
    const workers = this.#source?.workers.workers ?? [];
    const now = Date.now();
    const result: [number, number][] = [];
    await Promise.all(
      workers.map(async (w, index) => {
        if (w.closed || w.died) return;
        const usage = await w.getResourceUsage().catch(() => undefined);
        if (!usage) return;
        const cpuMs = usage.ru_utime + usage.ru_stime;
        const last = this.#lastCpu.get(w.pid);
        this.#lastCpu.set(w.pid, { cpuMs, at: now });
        result.push([index, last ? Math.max(0, (cpuMs - last.cpuMs) / Math.max(1, now - last.at)) : 0]);
      }),
    );
    return result;
  }
}
