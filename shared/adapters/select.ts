/**
 * The one place adapters are chosen (docs/architecture.md, "Three ways to run"), shared by every composition root:
 * REDIS_URL → live state in Redis, DYNAMODB_TABLE → durable state in DynamoDB,
 * SQS_QUEUE_PREFIX → commands and events over SQS; each otherwise in memory. AWS endpoints come from the
 * SDK's own AWS_ENDPOINT_URL_* variables.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { BlobStore } from '../ports/blobs.ts';
import type { CommandBus, CommandQueue, DeadLetterInbox } from '../ports/commands.ts';
import type { Departures } from '../ports/departures.ts';
import type { RecordingStore, RoomStore, ServiceStore } from '../ports/durable.ts';
import type { EventSink, EventSource } from '../ports/events.ts';
import type { ConnectionStore } from '../ports/gateway.ts';
import type {
  CommandLedger,
  ParticipantStore,
  PlacementStore,
  RoomNodes,
  StreamingOutStore,
  StreamStore,
  TokenLedger,
} from '../ports/live.ts';
import type { NodeRegistry } from '../ports/nodes.ts';
import type { NonceLedger } from '../ports/nonces.ts';
import type { RateLimiter } from '../ports/rateLimit.ts';
import type { Replies } from '../ports/replies.ts';
import type { ResumeTickets } from '../ports/sessions.ts';
import type { Participant, Stream } from '../protocol/http/liveState.ts';
import type { StreamingOut } from '../protocol/http/streamingOut.ts';
import { CachedRoomStore } from './CachedRoomStore.ts';
import { createDynamoClients } from './dynamodb/client.ts';
import { DynamoRecordingStore } from './dynamodb/DynamoRecordingStore.ts';
import { DynamoRoomStore } from './dynamodb/DynamoRoomStore.ts';
import { DynamoServiceStore } from './dynamodb/DynamoServiceStore.ts';
import { LocalBlobStore } from './local/LocalBlobStore.ts';
import { MemoryCommandLedger } from './memory/MemoryCommandLedger.ts';
import { MemoryCommandQueue } from './memory/MemoryCommandQueue.ts';
import { MemoryConnectionStore } from './memory/MemoryConnectionStore.ts';
import { MemoryDepartures } from './memory/MemoryDepartures.ts';
import { MemoryEventSink } from './memory/MemoryEventSink.ts';
import { MemoryLiveCollection } from './memory/MemoryLiveCollection.ts';
import { MemoryNodeRegistry } from './memory/MemoryNodeRegistry.ts';
import { MemoryNonceLedger } from './memory/MemoryNonceLedger.ts';
import { MemoryPlacementStore } from './memory/MemoryPlacementStore.ts';
import { MemoryRateLimiter } from './memory/MemoryRateLimiter.ts';
import { MemoryRecordingStore } from './memory/MemoryRecordingStore.ts';
import { MemoryReplies } from './memory/MemoryReplies.ts';
import { MemoryResumeTickets } from './memory/MemoryResumeTickets.ts';
import { MemoryRoomNodes } from './memory/MemoryRoomNodes.ts';
import { MemoryRoomStore } from './memory/MemoryRoomStore.ts';
import { MemoryServiceStore } from './memory/MemoryServiceStore.ts';
import { MemoryTokenLedger } from './memory/MemoryTokenLedger.ts';
import { createRedisClient } from './redis/client.ts';
import { RedisCommandLedger } from './redis/RedisCommandLedger.ts';
import { RedisConnectionStore } from './redis/RedisConnectionStore.ts';
import { RedisDepartures } from './redis/RedisDepartures.ts';
import { RedisLiveCollection } from './redis/RedisLiveCollection.ts';
import { RedisNodeRegistry } from './redis/RedisNodeRegistry.ts';
import { RedisNonceLedger } from './redis/RedisNonceLedger.ts';
import { RedisPlacementStore } from './redis/RedisPlacementStore.ts';
import { RedisRateLimiter } from './redis/RedisRateLimiter.ts';
import { RedisReplies } from './redis/RedisReplies.ts';
import { RedisResumeTickets } from './redis/RedisResumeTickets.ts';
import { RedisRoomNodes } from './redis/RedisRoomNodes.ts';
import { RedisRoomVersions } from './redis/RedisRoomVersions.ts';
import { RedisTokenLedger } from './redis/RedisTokenLedger.ts';
import { createS3Client } from './s3/client.ts';
import { S3BlobStore } from './s3/S3BlobStore.ts';
import { createSqsClient } from './sqs/client.ts';
import { SignedSqs } from './sqs/SignedSqs.ts';
import { SqsCommandQueue } from './sqs/SqsCommandQueue.ts';
import { SqsEventSink } from './sqs/SqsEventSink.ts';

export interface Adapters {
  services: ServiceStore;
  rooms: RoomStore;
  recordings: RecordingStore;
  participants: ParticipantStore;
  streams: StreamStore;
  streamingOuts: StreamingOutStore;
  tokens: TokenLedger;
  placement: PlacementStore;
  commands: CommandBus & CommandQueue & DeadLetterInbox;
  connections: ConnectionStore;
  ledger: CommandLedger;
  nodes: NodeRegistry;
  roomNodes: RoomNodes;
  /** MAuth nonces already used (replay protection). */
  nonces: NonceLedger;
  /** Per-service rate limits (join tokens). */
  rateLimits: RateLimiter;
  /** Resume tickets of sessions (a participant reconnecting after losing its WebSocket). */
  resumeTickets: ResumeTickets;
  /** Departures no live node holds a timer for (swept by every media node). */
  departures: Departures;
  /**
   * Where media nodes publish events: in process (a source webhooks subscribe to), or the
   * `<prefix>events` SQS queue the webhook function consumes.
   */
  events: EventSink & Partial<EventSource>;
  /** Answers media nodes send back to a waiting function (WHIP offers over HTTP). */
  replies: Replies;
  /**
   * Whether each external store answers right now (`redis`, `dynamodb`; none in memory), each
   * check bounded by its store's timeout. Never rejects.
   */
  readiness(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

/**
 * Where a media node keeps its recordings: RECORDINGS_BUCKET → S3 (RECORDINGS_DIR is then only
 * the spool ffmpeg writes into), else the RECORDINGS_DIR directory itself.
 */
export function blobStoreFor(config: Pick<Config, 'recordingsDir' | 'recordingsBucket'>): BlobStore {
  return config.recordingsBucket
    ? new S3BlobStore(createS3Client(), config.recordingsBucket)
    : new LocalBlobStore(config.recordingsDir);
}

export function memoryAdapters(): Adapters {
  return {
    services: new MemoryServiceStore(),
    rooms: new MemoryRoomStore(),
    recordings: new MemoryRecordingStore(),
    participants: new MemoryLiveCollection<Participant>('participant'),
    streams: new MemoryLiveCollection<Stream>('stream'),
    streamingOuts: new MemoryLiveCollection<StreamingOut>('streaming-out'),
    tokens: new MemoryTokenLedger(),
    placement: new MemoryPlacementStore(),
    commands: new MemoryCommandQueue(),
    connections: new MemoryConnectionStore(),
    ledger: new MemoryCommandLedger(),
    nodes: new MemoryNodeRegistry(),
    roomNodes: new MemoryRoomNodes(),
    nonces: new MemoryNonceLedger(),
    rateLimits: new MemoryRateLimiter(),
    resumeTickets: new MemoryResumeTickets(),
    departures: new MemoryDepartures(),
    events: new MemoryEventSink(),
    replies: new MemoryReplies(),
    readiness: async () => ({}),
    close: async () => {},
  };
}

export function adaptersFor(config: Config, logger: Logger): Adapters {
  const memory = memoryAdapters();
  const { redisMs, dynamodbMs } = config.storeTimeouts;
  const redis = config.redisUrl
    ? createRedisClient(config.redisUrl, { commandTimeoutMs: redisMs, logger })
    : undefined;
  const dynamoClients = config.dynamodbTable ? createDynamoClients(dynamodbMs) : undefined;
  const dynamoClient = dynamoClients?.client;
  const dynamo = dynamoClients?.db;
  const sqs = config.sqsQueuePrefix ? createSqsClient() : undefined;
  const table = config.dynamodbTable!;
  return {
    services: dynamo ? new DynamoServiceStore(dynamo, table) : memory.services,
    rooms: dynamo ? cachedWith(redis, new DynamoRoomStore(dynamo, table)) : memory.rooms,
    recordings: dynamo ? new DynamoRecordingStore(dynamo, table) : memory.recordings,
    participants: redis ? new RedisLiveCollection<Participant>(redis, 'participant') : memory.participants,
    streams: redis ? new RedisLiveCollection<Stream>(redis, 'stream') : memory.streams,
    streamingOuts: redis
      ? new RedisLiveCollection<StreamingOut>(redis, 'streaming-out')
      : memory.streamingOuts,
    tokens: redis ? new RedisTokenLedger(redis) : memory.tokens,
    placement: redis ? new RedisPlacementStore(redis) : memory.placement,
    commands: sqs ? new SqsCommandQueue(sqs, { prefix: config.sqsQueuePrefix! }) : memory.commands,
    connections: redis ? new RedisConnectionStore(redis) : memory.connections,
    ledger: redis ? new RedisCommandLedger(redis) : memory.ledger,
    nodes: redis ? new RedisNodeRegistry(redis) : memory.nodes,
    roomNodes: redis ? new RedisRoomNodes(redis) : memory.roomNodes,
    nonces: redis ? new RedisNonceLedger(redis) : memory.nonces,
    rateLimits: redis ? new RedisRateLimiter(redis) : memory.rateLimits,
    resumeTickets: redis ? new RedisResumeTickets(redis) : memory.resumeTickets,
    departures: redis ? new RedisDepartures(redis) : memory.departures,
    events: sqs ? new SqsEventSink(sqs, { prefix: config.sqsQueuePrefix! }) : memory.events,
    replies: redis ? new RedisReplies(redis) : memory.replies,
    async readiness() {
      const checks: Record<string, Promise<boolean>> = {};
      if (redis) checks.redis = answers(() => redis.ping(), redisMs);
      if (dynamo)
        // A read of a key that never exists: needs only the GetItem the functions are granted.
        checks.dynamodb = answers(
          () => dynamo.send(new GetCommand({ TableName: table, Key: { pk: 'READINESS', sk: 'PROBE' } })),
          dynamodbMs,
        );
      const names = Object.keys(checks);
      const results = await Promise.all(Object.values(checks));
      return Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    },
    async close() {
      redis?.disconnect();
      dynamoClient?.destroy();
      if (sqs) SignedSqs.release(sqs);
      sqs?.destroy();
    },
  };
}

/** Whether `probe` succeeds within `ms`; a slow or failing probe is false, never a hang. */
async function answers(probe: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      probe().then(
        () => true,
        () => false,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** With Redis, room reads are served from memory while the room's change token holds (CachedRoomStore). */
function cachedWith(redis: Redis | undefined, rooms: RoomStore): RoomStore {
  return redis ? new CachedRoomStore(rooms, new RedisRoomVersions(redis)) : rooms;
}
