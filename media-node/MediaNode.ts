import type { types } from 'mediasoup';
import type { Limits, TurnConfig } from '../shared/config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import type { CommandBus, CommandQueue } from '../shared/ports/commands.ts';
import type { Departures } from '../shared/ports/departures.ts';
import type { EventSink } from '../shared/ports/events.ts';
import type { ConnectionGateway } from '../shared/ports/gateway.ts';
import type { CommandLedger, ParticipantStore, RoomNodes, StreamStore } from '../shared/ports/live.ts';
import type { NodeRegistry } from '../shared/ports/nodes.ts';
import type { Replies } from '../shared/ports/replies.ts';
import { turnIceServers } from '../shared/turn/credentials.ts';
import { CapacityReporter } from './capacity/CapacityReporter.ts';
import { Cascades } from './cascade/Cascades.ts';
import { routerMediaCodecs } from './codecs/routerCodecs.ts';
import { CommandProcessor } from './commands/CommandProcessor.ts';
import { nodeCommandHandlers } from './commands/handlers.ts';
import { RoomEvents } from './events/RoomEvents.ts';
import type { NodeCapability } from './ffmpeg/capabilities.ts';
import { StreamRecords } from './liveState/StreamRecords.ts';
import { ViewMixers } from './mcu/ViewMixers.ts';
import type { NodeObservers } from './metrics/registry.ts';
import { type PipelineFactory, Pipelines } from './pipelines/Pipelines.ts';
import { roomStreamPublisher } from './pipelines/publisher.ts';
import { followRecordings } from './recording/recordingEvents.ts';
import { RoomRegistry, type RtcOptions } from './sfu/RoomRegistry.ts';
import { NodeSignaling } from './signaling/NodeSignaling.ts';
import { SessionKeeper } from './signaling/SessionKeeper.ts';
import type { RtmpIngestServer } from './streaming/RtmpIngestServer.ts';
import { SubscriptionTranscoders } from './transcoding/SubscriptionTranscoders.ts';
import { HttpMediaSessions } from './whip/HttpMediaSessions.ts';
import { WorkerPool } from './workers/WorkerPool.ts';

export interface MediaNodeOptions {
  nodeId: string;
  workers?: number | undefined;
  logger: Logger;
  gateway: ConnectionGateway;
  /** This node's queue, and the bus to the room's other nodes. */
  commands: CommandQueue & CommandBus;
  ledger: CommandLedger;
  streams: StreamStore;
  /** Live participant records: the node ends a participant's once it departs (session grace). */
  participants?: ParticipantStore | undefined;
  /** Departures no node holds (cut sessions whose node died), swept by every node. */
  departures?: Departures | undefined;
  rtc: RtcOptions;
  /** Per-participant caps and per-connection rates (config.limits). */
  limits: Limits;
  /** Where the node reports its capacity every second (cluster modes). */
  registry?: NodeRegistry | undefined;
  /** Which nodes host each room; set when rooms may span nodes (cluster modes). */
  roomNodes?: RoomNodes | undefined;
  /** Where the node is, matched against join-token preferences. */
  location?: { region?: string | undefined; isp?: string | undefined };
  /** TURN the deployment runs: every login answer carries its URLs with fresh credentials. */
  turn?: Pick<TurnConfig, 'secret' | 'urls' | 'credentialTtlSeconds'> | undefined;
  /** The media pipeline kinds this node runs (registered by the composition root). */
  pipelineKinds?: Readonly<Record<string, PipelineFactory>> | undefined;
  /** Mix the views of the rooms this node gets `views.configure` for (needs ffmpeg). */
  mcu?: boolean | undefined;
  /** What the node reports it offers (what its ffmpeg can do by default). */
  capabilities?: (() => Promise<NodeCapability[]>) | undefined;
  /** Where room, participant and stream events go (webhooks, metrics); none when absent. */
  events?: EventSink | undefined;
  /** Counters and timings for the node's metrics (media-node/metrics). */
  observers?: NodeObservers | undefined;
  /** Where the node answers requests that came over HTTP (WHIP offers); none: it takes none. */
  replies?: Replies | undefined;
  /** The node's RTMP push ingest (listening) and the URL encoders are given; closed with the node. */
  rtmpIngest?: { server: RtmpIngestServer; url: string } | undefined;
}

export interface MediaNodeHealth {
  workers: number;
  workersAlive: number;
}

/**
 * One media node: the mediasoup worker pool, the rooms on it, and the command consumer that
 * drives them. Wiring, start and close live here; media objects live under workers/ and sfu/,
 * protocol handling under signaling/ and commands/.
 */
export class MediaNode {
  readonly id: string;
  readonly #pool: WorkerPool;
  readonly #rooms: RoomRegistry;
  readonly #processor: CommandProcessor;
  readonly #rtpCapabilities: types.RtpCapabilities;
  readonly #reporter: CapacityReporter | undefined;
  readonly #sessions: SessionKeeper;
  readonly #cascades: Cascades | undefined;
  readonly pipelines: Pipelines;
  /** The view mixers (MCU), when the node mixes (`mcu: true`). */
  mixers: ViewMixers | undefined;
  /** Transcoding on subscribe, when the node runs transcode pipelines. */
  transcoders: SubscriptionTranscoders | undefined;
  #events: RoomEvents | undefined;
  #rtmpIngest: RtmpIngestServer | undefined;
  /** Where encoders push to this node's RTMP ingest (with a key after it); none without one. */
  rtmpIngestUrl: string | undefined;
  #closed = false;

  private constructor(
    id: string,
    pool: WorkerPool,
    rooms: RoomRegistry,
    processor: CommandProcessor,
    caps: types.RtpCapabilities,
    reporter: CapacityReporter | undefined,
    sessions: SessionKeeper,
    cascades: Cascades | undefined,
    pipelines: Pipelines,
  ) {
    this.pipelines = pipelines;
    this.#sessions = sessions;
    this.#cascades = cascades;
    this.id = id;
    this.#pool = pool;
    this.#rooms = rooms;
    this.#processor = processor;
    this.#rtpCapabilities = caps;
    this.#reporter = reporter;
  }

  static async start(o: MediaNodeOptions): Promise<MediaNode> {
    // Commands issued before now were for an earlier life of this node id (see CommandProcessor).
    const since = Date.now();
    const logger = o.logger.child({ component: 'media-node', nodeId: o.nodeId });
    const pool = await WorkerPool.create({ logger, ...(o.workers ? { size: o.workers } : {}) });
    const rooms = new RoomRegistry(pool, o.rtc, logger, o.limits);
    await rooms.start();
    // The live-state records of this node's streams (what `GET …/streams` lists).
    new StreamRecords(rooms, o.streams, logger, o.nodeId);
    // Subscribed before any room exists: every room's whole life is in the event stream.
    const events = o.events
      ? new RoomEvents({ nodeId: o.nodeId, rooms, sink: o.events, logger, tap: o.observers?.event })
      : undefined;
    const sessions = new SessionKeeper({
      nodeId: o.nodeId,
      rooms,
      participants: o.participants,
      roomNodes: o.roomNodes,
      departures: o.departures,
      logger,
    });
    const pipelines = new Pipelines({
      rooms,
      kinds: o.pipelineKinds ?? {},
      publisher: roomStreamPublisher,
      logger,
      limits: { perRoom: o.limits.pipelinesPerRoom, perNode: o.limits.pipelinesPerNode },
    });
    // Transcoding on subscribe: needs a kind of pipeline to run (a node given none transcodes nothing).
    const transcoders = o.pipelineKinds?.transcode
      ? new SubscriptionTranscoders({ pipelines, logger })
      : undefined;
    const turn = o.turn?.urls.length ? o.turn : undefined;
    const signaling = new NodeSignaling(rooms, o.gateway, logger, o.limits, {
      sessions,
      transcoders,
      observers: o.observers,
      iceServersFor: turn
        ? (participantId) =>
            turnIceServers(turn.urls, {
              secret: turn.secret,
              ttlSeconds: turn.credentialTtlSeconds,
              participantId,
            })
        : undefined,
    });
    const cascades = o.roomNodes
      ? new Cascades({
          nodeId: o.nodeId,
          rooms,
          roomNodes: o.roomNodes,
          bus: o.commands,
          rtc: o.rtc,
          logger,
          registry: o.registry,
        })
      : undefined;
    events?.followPipelines(pipelines);
    if (events) followRecordings(pipelines, events);
    // The MCU: a mixer per view of the rooms this node hosts the mixing of (views.configure).
    const mixers = o.mcu ? new ViewMixers({ rooms, pipelines, logger }) : undefined;
    const processor = new CommandProcessor({
      nodeId: o.nodeId,
      queue: o.commands,
      ledger: o.ledger,
      handle: nodeCommandHandlers(
        rooms,
        signaling,
        cascades,
        sessions,
        pipelines,
        mixers,
        o.replies ? new HttpMediaSessions({ rooms, sessions, replies: o.replies, logger }) : undefined,
      ),
      logger,
      since,
      observers: o.observers,
    });
    await o.commands.open(o.nodeId);
    // Every router has the same capabilities: clients may load them before joining.
    const probe = await pool.workers[0]!.createRouter({ mediaCodecs: routerMediaCodecs });
    const caps = probe.rtpCapabilities;
    probe.close();
    processor.start();
    let reporter: CapacityReporter | undefined;
    if (o.registry) {
      await o.registry.setRtpCapabilities(caps);
      reporter = new CapacityReporter({
        nodeId: o.nodeId,
        pool,
        rooms,
        registry: o.registry,
        logger,
        pipes: () => cascades?.pipes ?? 0,
        pipelines: () => pipelines.usage(),
        rtmpIngestUrl: o.rtmpIngest?.url,
        ...(o.capabilities ? { capabilities: o.capabilities } : {}),
        ...o.location,
      });
      await reporter.start();
    }
    const node = new MediaNode(
      o.nodeId,
      pool,
      rooms,
      processor,
      caps,
      reporter,
      sessions,
      cascades,
      pipelines,
    );
    node.#events = events;
    node.mixers = mixers;
    node.transcoders = transcoders;
    node.#rtmpIngest = o.rtmpIngest?.server;
    node.rtmpIngestUrl = o.rtmpIngest?.url;
    return node;
  }

  get workers(): WorkerPool {
    return this.#pool;
  }

  get rooms(): RoomRegistry {
    return this.#rooms;
  }

  /** The node's event funnel (pipelines publish theirs here); absent without an event sink. */
  get events(): RoomEvents | undefined {
    return this.#events;
  }

  /** The RTP capabilities of every router on this node (and every node of this build). */
  get routerRtpCapabilities(): types.RtpCapabilities {
    return this.#rtpCapabilities;
  }

  health(): MediaNodeHealth {
    const all = this.#pool.workers;
    return { workers: all.length, workersAlive: all.filter((w) => !w.closed && !w.died).length };
  }

  /**
   * Graceful drain (SIGTERM): report `draining` so no new rooms come here, let existing rooms
   * run until they empty or the timeout passes, then close them (their clients are told).
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#reporter) {
      this.#reporter.draining = true;
      await this.#reporter.report().catch(() => {});
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.#rooms.rooms.values()].some((r) => r.peers.size > 0)) {
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reporter?.stop();
    await this.#processor.stop();
    this.#rtmpIngest?.close();
    this.mixers?.close();
    this.pipelines.close();
    this.#rooms.close();
    // The rooms' last events (finished, left) go out before the node does.
    await this.#events?.close();
    await this.#sessions.close();
    // The room's other nodes hear that this part of it is gone (pipe.leave) before we exit.
    await this.#cascades?.close();
    this.#pool.close();
  }
}
