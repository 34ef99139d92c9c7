import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { MediaNode } from '../media-node/MediaNode.ts';
import { DynamoRoomStore } from '../shared/adapters/dynamodb/DynamoRoomStore.ts';
import { DynamoServiceStore } from '../shared/adapters/dynamodb/DynamoServiceStore.ts';
import { MemoryCommandLedger } from '../shared/adapters/memory/MemoryCommandLedger.ts';
import { MemoryCommandQueue } from '../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryConnectionStore } from '../shared/adapters/memory/MemoryConnectionStore.ts';
import { MemoryLiveCollection } from '../shared/adapters/memory/MemoryLiveCollection.ts';
import { MemoryPlacementStore } from '../shared/adapters/memory/MemoryPlacementStore.ts';
import { MemoryRoomStore } from '../shared/adapters/memory/MemoryRoomStore.ts';
import { MemoryServiceStore } from '../shared/adapters/memory/MemoryServiceStore.ts';
import { MemoryTokenLedger } from '../shared/adapters/memory/MemoryTokenLedger.ts';
import { RedisLiveCollection } from '../shared/adapters/redis/RedisLiveCollection.ts';
import { RedisPlacementStore } from '../shared/adapters/redis/RedisPlacementStore.ts';
import { RedisTokenLedger } from '../shared/adapters/redis/RedisTokenLedger.ts';
import { createSqsClient } from '../shared/adapters/sqs/client.ts';
import { SqsCommandQueue } from '../shared/adapters/sqs/SqsCommandQueue.ts';
import type { Config } from '../shared/config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import type { CommandBus, CommandQueue } from '../shared/ports/commands.ts';
import type { RoomStore, ServiceStore } from '../shared/ports/durable.ts';
import type { ParticipantStore, PlacementStore, StreamStore, TokenLedger } from '../shared/ports/live.ts';
import type { Participant, Stream } from '../shared/protocol/http/liveState.ts';
import type { AppDeps } from './app.ts';
import { WebSocketGateway } from './http/WebSocketGateway.ts';
import { Commands } from './services/Commands.ts';
import { JoinTokens } from './services/JoinTokens.ts';
import type { ManagementApi } from './services/ManagementApi.ts';
import { ManagementAuth } from './services/ManagementAuth.ts';
import { ParticipantService } from './services/ParticipantService.ts';
import { RoomService } from './services/RoomService.ts';
import { ServiceRegistry } from './services/ServiceRegistry.ts';
import { StreamService } from './services/StreamService.ts';
import { KeySealer, newSecret } from './services/secrets.ts';
import { SignalingFunction } from './signaling/SignalingFunction.ts';

export interface Adapters {
  services: ServiceStore;
  rooms: RoomStore;
  participants: ParticipantStore;
  streams: StreamStore;
  tokens: TokenLedger;
  placement: PlacementStore;
  commands: CommandBus & CommandQueue;
  close(): Promise<void>;
}

export function memoryAdapters(): Adapters {
  return {
    services: new MemoryServiceStore(),
    rooms: new MemoryRoomStore(),
    participants: new MemoryLiveCollection<Participant>('participant'),
    streams: new MemoryLiveCollection<Stream>('stream'),
    tokens: new MemoryTokenLedger(),
    placement: new MemoryPlacementStore(),
    commands: new MemoryCommandQueue(),
    close: async () => {},
  };
}

/**
 * The one place adapters are chosen (ARCHITECTURE.md §2): REDIS_URL → live state in Redis,
 * DYNAMODB_TABLE → durable state in DynamoDB, SQS_QUEUE_PREFIX → commands over SQS; each
 * otherwise in memory. AWS endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables.
 */
export function adaptersFor(config: Config): Adapters {
  const memory = memoryAdapters();
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const dynamoClient = config.dynamodbTable ? new DynamoDBClient({}) : undefined;
  const dynamo =
    dynamoClient &&
    DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = config.sqsQueuePrefix ? createSqsClient() : undefined;
  const table = config.dynamodbTable!;
  return {
    services: dynamo ? new DynamoServiceStore(dynamo, table) : memory.services,
    rooms: dynamo ? new DynamoRoomStore(dynamo, table) : memory.rooms,
    participants: redis ? new RedisLiveCollection<Participant>(redis, 'participant') : memory.participants,
    streams: redis ? new RedisLiveCollection<Stream>(redis, 'stream') : memory.streams,
    tokens: redis ? new RedisTokenLedger(redis) : memory.tokens,
    placement: redis ? new RedisPlacementStore(redis) : memory.placement,
    commands: sqs ? new SqsCommandQueue(sqs, { prefix: config.sqsQueuePrefix! }) : memory.commands,
    async close() {
      redis?.disconnect();
      dynamoClient?.destroy();
      sqs?.destroy();
    },
  };
}

export interface Secrets {
  superService: { id: string; key: string };
  tokenSecret: string;
  masterKey: string;
  joinTokenTtlSeconds: number;
}

/** Secrets from configuration; the ones a single process may invent are generated (loadConfig insists on the rest). */
export function secretsFor(config: Config): Secrets & { generatedSuperKey: boolean } {
  return {
    superService: { id: config.superService.id, key: config.superService.key ?? newSecret() },
    generatedSuperKey: config.superService.key === undefined,
    tokenSecret: config.tokenSecret ?? newSecret(),
    masterKey: config.masterKey ?? newSecret(),
    joinTokenTtlSeconds: config.joinTokenTtlSeconds,
  };
}

export function managementApi(adapters: Adapters, secrets: Secrets): ManagementApi {
  const services = new ServiceRegistry(
    adapters.services,
    new KeySealer(secrets.masterKey),
    secrets.superService,
  );
  const commands = new Commands(adapters.commands, adapters.placement);
  const rooms = new RoomService({ ...adapters, commands });
  return {
    auth: new ManagementAuth(services),
    services,
    rooms,
    participants: new ParticipantService(rooms, adapters.participants, commands),
    streams: new StreamService(rooms, adapters.streams, commands),
    tokens: new JoinTokens({
      secret: secrets.tokenSecret,
      ledger: adapters.tokens,
      ttlSeconds: secrets.joinTokenTtlSeconds,
    }),
  };
}

export interface EmbeddedSystem {
  deps: AppDeps;
  gateway: WebSocketGateway;
  mediaNode: MediaNode;
  /** The in-process command bus between signaling and the media node. */
  commands: Adapters['commands'];
  superService: { id: string; key: string; generated: boolean };
  close(): Promise<void>;
}

/**
 * Composition root of the embedded mode: control plane, signaling, the WebSocket gateway and
 * one media node in one process, talking through the same ports as the distributed mode.
 */
export async function composeEmbedded(config: Config, logger: Logger): Promise<EmbeddedSystem> {
  const adapters = adaptersFor(config);
  const secrets = secretsFor(config);
  const api = managementApi(adapters, secrets);
  const gateway = new WebSocketGateway({ path: '/ws', logger });
  const mediaNode = await MediaNode.start({
    nodeId: config.nodeId,
    workers: config.media.workers,
    logger,
    gateway,
    commands: adapters.commands,
    ledger: new MemoryCommandLedger(),
    streams: adapters.streams,
    rtc: config.rtc,
  });
  gateway.route(
    new SignalingFunction({
      tokens: api.tokens,
      rooms: adapters.rooms,
      participants: adapters.participants,
      connections: new MemoryConnectionStore(),
      placement: adapters.placement,
      commands: new Commands(adapters.commands, adapters.placement),
      gateway,
      chooseNode: async () => mediaNode.id,
      logger,
    }),
  );
  return {
    deps: {
      logger,
      mediaNode,
      api,
      rtpCapabilities: () => mediaNode.routerRtpCapabilities,
      demo: { serviceId: secrets.superService.id },
    },
    gateway,
    mediaNode,
    commands: adapters.commands,
    superService: { ...secrets.superService, generated: secrets.generatedSuperKey },
    async close() {
      gateway.close();
      await mediaNode.close();
      await adapters.close();
    },
  };
}

/** Composition root of a stateless function process (Lambda, or functions on Node in the local cluster). */
export function composeFunctions(config: Config, logger: Logger): AppDeps & { close(): Promise<void> } {
  const adapters = adaptersFor(config);
  return { logger, api: managementApi(adapters, secretsFor(config)), close: () => adapters.close() };
}
