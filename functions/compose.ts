import { ApiGatewayConnections } from '../shared/adapters/apigw/ApiGatewayConnections.ts';
import { type Adapters, adaptersFor } from '../shared/adapters/select.ts';
import { loadConfig } from '../shared/config/load.ts';
import type { Config, Limits } from '../shared/config/schema.ts';
import { ConfigError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { isServing, NODE_FRESH_MS } from '../shared/placement/nodeHealth.ts';
import type { Strategy } from '../shared/placement/placement.ts';
import type { ConnectionGateway } from '../shared/ports/gateway.ts';
import type { NodeRegistry } from '../shared/ports/nodes.ts';
import type { AppDeps } from './app.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { whipRoutes } from './routes/whip.ts';
import { Commands } from './services/Commands.ts';
import { type IngestDirectory, IngressService, reportedIngest } from './services/IngressService.ts';
import { JoinTokens } from './services/JoinTokens.ts';
import type { ManagementApi } from './services/ManagementApi.ts';
import { ManagementAuth } from './services/ManagementAuth.ts';
import { NodeService } from './services/NodeService.ts';
import { ParticipantService } from './services/ParticipantService.ts';
import { PipelineHosts } from './services/PipelineHosts.ts';
import { RecordingService } from './services/RecordingService.ts';
import { RoomService } from './services/RoomService.ts';
import { RoomViews } from './services/RoomViews.ts';
import { ServiceRegistry } from './services/ServiceRegistry.ts';
import { StreamingInService } from './services/StreamingInService.ts';
import { StreamingOutService } from './services/StreamingOutService.ts';
import { StreamService } from './services/StreamService.ts';
import { KeySealer, newSecret } from './services/secrets.ts';
import { RoomPlacer } from './signaling/RoomPlacer.ts';
import { type SignalingDeps, SignalingFunction } from './signaling/SignalingFunction.ts';
import { WebhookSettings } from './webhooks/WebhookSettings.ts';
import { WhipEndpoint } from './whip/WhipEndpoint.ts';

export interface Secrets {
  superService: { id: string; key: string };
  tokenSecret: string;
  masterKey: string;
  joinTokenTtlSeconds: number;
}

/** Secrets from configuration; the ones a single process may invent are generated (loadConfig insists on the rest). */
export function secretsFor(config: Config): Secrets & { generatedSuperKey: boolean } {
  // Shared secrets must be given, not generated, once state outlives one process.
  const missing = [
    config.dynamodbTable &&
      !config.masterKey &&
      'MASTER_KEY (service keys stored in DynamoDB must stay readable)',
    config.redisUrl &&
      !config.tokenSecret &&
      'TOKEN_SECRET (every function must verify the same join tokens)',
    (config.redisUrl || config.dynamodbTable) && !config.superService.key && 'SUPER_SERVICE_KEY',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0)
    throw new ConfigError(`invalid configuration: set ${missing.join(', ')}`, { problems: missing });
  return {
    superService: { id: config.superService.id, key: config.superService.key ?? newSecret() },
    generatedSuperKey: config.superService.key === undefined,
    tokenSecret: config.tokenSecret ?? newSecret(),
    masterKey: config.masterKey ?? newSecret(),
    joinTokenTtlSeconds: config.joinTokenTtlSeconds,
  };
}

/** The limits the management API enforces (config.limits); the schema's defaults when not given. */
export type ManagementLimits = Pick<Limits, 'roomsPerService' | 'tokensPerServicePerMinute'>;

/**
 * Where the management API finds media nodes for room-wide work: each node's RTMP ingest, and
 * the hosts of pipelines (by default the cluster's: nodes' reports, placement by `placementStrategy`).
 */
export interface MediaDirectory {
  ingest?: IngestDirectory;
  hosts?: PipelineHosts;
  placementStrategy?: Strategy;
  /**
   * Where media nodes report (cluster modes): recordings of a node gone from it for `afterMs`
   * (RecordingService.NODE_LOST_MS) are failed. The embedded node reports nowhere.
   */
  lostNodes?: { registry: NodeRegistry; afterMs?: number };
}

export function managementApi(
  adapters: Adapters,
  secrets: Secrets,
  limits: ManagementLimits = loadConfig({}).limits,
  streaming: Config['streaming'] = loadConfig({}).streaming,
  media: MediaDirectory = {},
): ManagementApi {
  const services = new ServiceRegistry(
    adapters.services,
    new KeySealer(secrets.masterKey),
    secrets.superService,
  );
  const commands = new Commands(adapters);
  const views = new RoomViews({ ...adapters, commands });
  const rooms = new RoomService({ ...adapters, commands, views, maxRoomsPerService: limits.roomsPerService });
  const hosts = media.hosts ?? clusterPipelineHosts(adapters, commands, views, media.placementStrategy);
  const ingest = media.ingest ?? reportedIngest(adapters.nodes);
  return {
    auth: new ManagementAuth(services, adapters.nonces),
    services,
    rooms,
    participants: new ParticipantService(rooms, adapters.participants, commands, adapters.roomNodes),
    streams: new StreamService(rooms, adapters.streams, commands),
    recordings: new RecordingService({ ...adapters, rooms, commands, hosts, lostNodes: media.lostNodes }),
    streamingOuts: new StreamingOutService({
      ...adapters,
      rooms,
      commands,
      hosts,
      allowPrivateUrls: streaming.allowPrivateUrls,
    }),
    streamingIns: new StreamingInService({
      rooms,
      commands,
      hosts,
      allowPrivateUrls: streaming.allowPrivateUrls,
      schemes: streaming.inSchemes,
    }),
    ingresses: new IngressService({ rooms, commands, hosts, ingest }),
    nodes: new NodeService(adapters.nodes, adapters.commands),
    tokens: new JoinTokens({
      secret: secrets.tokenSecret,
      ledger: adapters.tokens,
      ttlSeconds: secrets.joinTokenTtlSeconds,
      rate: { limiter: adapters.rateLimits, perServicePerMinute: limits.tokensPerServicePerMinute },
    }),
  };
}

/**
 * The cluster's pipeline hosts: capabilities from the nodes' reports, and a room nobody has
 * joined placed as the signaling function places one (same store, same locks), its views sent.
 */
export function clusterPipelineHosts(
  adapters: Pick<Adapters, 'placement' | 'nodes'>,
  commands: Pick<Commands, 'hostOf'>,
  views: Pick<RoomViews, 'placed'>,
  strategy: Strategy = loadConfig({}).placementStrategy,
): PipelineHosts {
  const placer = new RoomPlacer({
    placement: adapters.placement,
    registry: adapters.nodes,
    strategy,
    onPlaced: (roomId, nodeId) => views.placed(roomId, nodeId),
  });
  return new PipelineHosts({
    hostOf: (roomKey) => commands.hostOf(roomKey),
    capabilitiesOf: async (id) =>
      (await adapters.nodes.fresh(NODE_FRESH_MS)).find((n) => n.id === id)?.capabilities,
    place: (roomKey, requires) => placer.place(roomKey, undefined, undefined, requires),
  });
}

/** Each service's webhook (REST and the dispatcher's lookups), secrets sealed under MASTER_KEY. */
export function webhookSettings(
  adapters: Pick<Adapters, 'services'>,
  secrets: Pick<Secrets, 'masterKey'>,
  config: Pick<Config, 'webhooks'>,
): WebhookSettings {
  return new WebhookSettings(adapters.services, new KeySealer(secrets.masterKey), {
    allowPrivateUrls: config.webhooks.allowPrivateUrls,
  });
}

/** Composition root of a stateless function process (Lambda, or functions on Node in the local cluster). */
export function composeFunctions(config: Config, logger: Logger): AppDeps & { close(): Promise<void> } {
  const adapters = adaptersFor(config, logger);
  const secrets = secretsFor(config);
  const webhooks = webhookSettings(adapters, secrets, config);
  // WHIP admits participants as the signaling function does: with the WebSocket API configured.
  const signaling = config.wsManagementEndpoint ? composeSignaling(config, logger) : undefined;
  const whip =
    signaling &&
    new WhipEndpoint({
      ...adapters,
      signaling: signaling.signaling,
      commands: new Commands(adapters),
      logger,
    });
  return {
    logger,
    api: managementApi(adapters, secrets, config.limits, config.streaming, {
      placementStrategy: config.placementStrategy,
      lostNodes: { registry: adapters.nodes },
    }),
    rtpCapabilities: () => adapters.nodes.rtpCapabilities(),
    readiness: () => adapters.readiness(),
    extensions: [
      (app) => webhookRoutes(app, webhooks),
      ...(whip ? [(app: Parameters<typeof whipRoutes>[0]) => whipRoutes(app, whip)] : []),
    ],
    async close() {
      await signaling?.close();
      await adapters.close();
    },
  };
}

/** Composition root of the signaling function behind a WebSocket API (Lambda, or the local gateway). */
export function composeSignaling(
  config: Config,
  logger: Logger,
): { signaling: SignalingFunction; close(): Promise<void> } {
  if (!config.wsManagementEndpoint)
    throw new ConfigError('set WS_MANAGEMENT_ENDPOINT for the signaling function');
  const adapters = adaptersFor(config, logger);
  const gateway = new ApiGatewayConnections(config.wsManagementEndpoint);
  const api = managementApi(adapters, secretsFor(config), config.limits, config.streaming, {
    placementStrategy: config.placementStrategy,
    lostNodes: { registry: adapters.nodes },
  });
  const views = new RoomViews({ ...adapters, commands: new Commands(adapters), logger });
  const placer = new RoomPlacer({
    placement: adapters.placement,
    registry: adapters.nodes,
    strategy: config.placementStrategy,
    roomNodes: adapters.roomNodes,
    peersPerNode: config.roomPeersPerNode,
    onPlaced: (roomId, nodeId) => views.placed(roomId, nodeId),
    onSpread: (roomId, nodeId) => views.spread(roomId, nodeId),
  });
  const signaling = signalingFunction(adapters, api, gateway, placer, logger, config, {
    // A node that reported in the last seconds still runs (draining ones too): it keeps places.
    nodeAlive: async (nodeId) =>
      (await adapters.nodes.fresh(NODE_FRESH_MS)).some((n) => n.id === nodeId && isServing(n)),
  });
  return {
    signaling,
    async close() {
      gateway.close();
      await adapters.close();
    },
  };
}

export function signalingFunction(
  adapters: Adapters,
  api: ManagementApi,
  gateway: ConnectionGateway,
  placer: Pick<RoomPlacer, 'placeParticipant'> & Partial<Pick<RoomPlacer, 'release' | 'canKeep'>>,
  logger: Logger,
  config: Pick<Config, 'limits' | 'session' | 'wsMaxConnectionMs'>,
  extra: Pick<SignalingDeps, 'nodeAlive'> = {},
): SignalingFunction {
  const limits = config.limits;
  const views = new RoomViews({ ...adapters, commands: new Commands(adapters), logger });
  return new SignalingFunction({
    ...extra,
    tickets: adapters.resumeTickets,
    departures: adapters.departures,
    session: { ...config.session, maxConnectionMs: config.wsMaxConnectionMs || undefined },
    tokens: api.tokens,
    rooms: adapters.rooms,
    participants: adapters.participants,
    connections: adapters.connections,
    commands: new Commands(adapters),
    gateway,
    place: (roomId, preference, avoid) => placer.placeParticipant(roomId, preference, avoid),
    mix: (roomId, participantId, params) => api.streams.mixOwn(roomId, participantId, params),
    keptAfterFailover: (roomId, nodeId) => views.recovered(roomId, nodeId),
    ...(placer.release
      ? { release: (roomId: string, nodeId: string) => placer.release!(roomId, nodeId) }
      : {}),
    ...(placer.canKeep
      ? { canKeep: (nodeId: string, failover: boolean) => placer.canKeep!(nodeId, failover) }
      : {}),
    // Twice the node's own rate: the node meters finely, this only stops floods early.
    throttle: { limiter: adapters.rateLimits, framesPerSecond: 2 * limits.messagesPerSecond },
    logger,
  });
}
