import { startMediaNode } from '../media-node/compose.ts';
import { offeredCapabilities } from '../media-node/ffmpeg/capabilities.ts';
import type { MediaNode } from '../media-node/MediaNode.ts';
import { NodeMetrics } from '../media-node/metrics/registry.ts';
import { TurnServer } from '../media-node/turn/TurnServer.ts';
import type { Adapters } from '../shared/adapters/select.ts';
import { adaptersFor } from '../shared/adapters/select.ts';
import type { Config } from '../shared/config/schema.ts';
import { ErrorCodes, TesseraError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { AppDeps } from './app.ts';
import { managementApi, secretsFor, signalingFunction, webhookSettings } from './compose.ts';
import { demoRoutes } from './http/demo.ts';
import { WebSocketGateway } from './http/WebSocketGateway.ts';
import { eventProjections } from './projections.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { whipRoutes } from './routes/whip.ts';
import { Commands } from './services/Commands.ts';
import { PipelineHosts } from './services/PipelineHosts.ts';
import { RoomViews } from './services/RoomViews.ts';
import { WebhookDispatcher } from './webhooks/WebhookDispatcher.ts';
import { WhipEndpoint } from './whip/WhipEndpoint.ts';

export interface EmbeddedSystem {
  deps: AppDeps;
  gateway: WebSocketGateway;
  mediaNode: MediaNode;
  /** The in-process command bus between signaling and the media node. */
  commands: Adapters['commands'];
  /** Live participant records (what REST lists). */
  participants: Adapters['participants'];
  superService: { id: string; key: string; generated: boolean };
  /** The coturn this process runs (TURN_LISTEN_IP set), whose URLs login answers carry. */
  turnServer: TurnServer | undefined;
  /** The media node's Prometheus metrics (served at GET /metrics). */
  metrics: NodeMetrics;
  close(): Promise<void>;
}

/**
 * Composition root of the embedded mode: control plane, signaling, the WebSocket gateway and
 * one media node in one process, talking through the same ports as the distributed mode.
 */
export async function composeEmbedded(config: Config, logger: Logger): Promise<EmbeddedSystem> {
  const turn = config.turn;
  const turnServer = turn?.server
    ? await TurnServer.start({ ...turn.server, secret: turn.secret, logger })
    : undefined;
  if (turnServer) logger.info('TURN server listening', { urls: turn?.urls });
  const adapters = adaptersFor(config, logger);
  const secrets = secretsFor(config);
  // The only node: every room is placed on it, takes every RTMP push and runs every pipeline
  // its ffmpeg can. It starts below; nothing calls these before it has.
  let node: MediaNode | undefined;
  const commands = new Commands(adapters);
  const views = new RoomViews({ ...adapters, commands, logger });
  const placeRoom = async (roomId: string): Promise<string> => {
    if (!node) throw new TesseraError(ErrorCodes.clusterUnavailable, 'the media node is starting');
    const placed = (await adapters.placement.get(roomId)) === node.id;
    if (!placed) await adapters.placement.set(roomId, node.id);
    // Also while the room is not open here: one reopened after it emptied, or after a restart
    // of this process with the placement kept in Redis. Joins racing ahead of the room's first
    // login may send them twice (idempotent).
    if (!placed || !node.rooms.get(roomId)) await views.placed(roomId, node.id);
    return node.id;
  };
  const api = managementApi(adapters, secrets, config.limits, config.streaming, {
    ingest: { rtmpUrl: async (nodeId) => (nodeId === node?.id ? node.rtmpIngestUrl : undefined) },
    hosts: new PipelineHosts({
      hostOf: (roomKey) => commands.hostOf(roomKey),
      capabilitiesOf: async (nodeId) =>
        nodeId === node?.id ? offeredCapabilities(config.capabilities) : undefined,
      place: placeRoom,
    }),
  });
  const gateway = new WebSocketGateway({
    path: '/ws',
    logger,
    pingIntervalMs: config.wsPingIntervalMs,
    ...(config.wsMaxConnectionMs ? { maxConnectionMs: config.wsMaxConnectionMs } : {}),
  });
  // Events stay in this process: the webhook dispatcher takes them from the memory sink.
  const webhooks = webhookSettings(adapters, secrets, config);
  const dispatcher = new WebhookDispatcher({ targetOf: (id) => webhooks.targetOf(id), logger });
  const unsubscribe = adapters.events.subscribe?.((event) => dispatcher.dispatch(event));
  // The same events keep the recordings' records and the streaming-outs' status up to date.
  const stopProjecting = adapters.events.subscribe?.(eventProjections(adapters, logger).listener());
  const metrics = new NodeMetrics({ nodeId: config.nodeId });
  // The only node: it reports nowhere and every room is placed on it.
  const mediaNode = await startMediaNode(
    config,
    { ...adapters, nodes: undefined, roomNodes: undefined },
    gateway,
    logger,
    { metrics },
  ).catch(async (e) => {
    dispatcher.close();
    await turnServer?.close();
    throw e;
  });
  node = mediaNode;
  const signaling = signalingFunction(
    adapters,
    api,
    gateway,
    { placeParticipant: placeRoom },
    logger,
    config,
  );
  gateway.route(signaling);
  const whip = new WhipEndpoint({ ...adapters, signaling, commands: new Commands(adapters), logger });
  return {
    deps: {
      logger,
      mediaNode,
      api,
      rtpCapabilities: () => mediaNode.routerRtpCapabilities,
      readiness: () => adapters.readiness(),
      extensions: [
        (app, api) =>
          demoRoutes(app, api, { ownerServiceId: secrets.superService.id, joinEnabled: config.demoJoin }),
        (app) => webhookRoutes(app, webhooks),
        (app) => whipRoutes(app, whip),
        // Unauthenticated, like any Prometheus target: the server binds to loopback by default.
        (app) =>
          app.get('/metrics', async (c) => {
            const { contentType, body } = await metrics.text();
            return c.body(body, 200, { 'content-type': contentType });
          }),
      ],
    },
    gateway,
    mediaNode,
    commands: adapters.commands,
    participants: adapters.participants,
    superService: { ...secrets.superService, generated: secrets.generatedSuperKey },
    turnServer,
    metrics,
    async close() {
      gateway.close();
      await mediaNode.close();
      unsubscribe?.();
      stopProjecting?.();
      dispatcher.close();
      await turnServer?.close();
      await adapters.close();
    },
  };
}
