import { z } from 'zod';

/**
 * What an operator chooses for a deployment (CDK context `-c key=value`, or Terraform variables
 * of the same meaning), validated like every other input.
 */
export const DeploymentSettingsSchema = z.object({
  /** Names every resource, the SQS queues (`<name>-node-<id>`, `<name>-dead-letter`) and the metrics dimension. */
  name: z
    .string()
    // Short enough for every name derived from it (IAM and S3 name prefixes allow 37 characters).
    .regex(/^[a-z][a-z0-9-]{1,19}$/)
    .default('tessera'),
  mediaNodeInstanceType: z
    .string()
    .regex(/^[a-z0-9]+\.[a-z0-9]+$/)
    .default('c7i.xlarge'),
  minMediaNodes: z.coerce.number().int().min(1).max(100).default(1),
  maxMediaNodes: z.coerce.number().int().min(1).max(500).default(4),
  /** First WebRTC port; worker i of a node listens on rtcPort + i (UDP and TCP). */
  rtcPort: z.coerce.number().int().min(1024).max(65000).default(40000),
  /** Ports opened per node: at least the workers of the largest instance type used. */
  maxWorkersPerNode: z.coerce.number().int().min(1).max(128).default(16),
  /** Mean load of the nodes taking rooms that scaling keeps the group at. */
  targetLoad: z.coerce.number().min(0.1).max(0.85).default(0.6),
  drainTimeoutSeconds: z.coerce.number().int().min(0).max(3600).default(600),
  redisNodeType: z
    .string()
    .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/)
    .default('cache.t4g.small'),
  natGateways: z.coerce.number().int().min(1).max(3).default(1),
  alarmEmail: z.email().optional(),
});

export type DeploymentSettings = z.infer<typeof DeploymentSettingsSchema>;

/** The names the code derives from the deployment name, so infrastructure and code agree. */
export const deploymentNames = (name: string) => ({
  /** SQS_QUEUE_PREFIX: a node's queue is `<prefix>node-<id>` (SqsCommandQueue). */
  queuePrefix: `${name}-`,
  nodeQueues: `${name}-node-*`,
  deadLetterQueue: `${name}-dead-letter`,
  /** Events from the media nodes to the webhook function (SqsEventSink), and where they end up when undeliverable. */
  eventsQueue: `${name}-events`,
  eventsDeadLetterQueue: `${name}-events-dead-letter`,
  mediaNodeGroup: `${name}-media-nodes`,
  /** RECORDINGS_BUCKET: `<prefix><unique suffix>` (globally unique; kept when the deployment goes). */
  recordingsBucketPrefix: `${name}-recordings-`,
  launchHook: 'node-ready',
  terminateHook: 'node-drain',
  webSocketStage: 'live',
});

/**
 * UDP ports mediasoup's workers take for PipeTransports between nodes (its default RTC range):
 * open between media nodes only.
 */
export const PIPE_PORTS = { from: 10_000, to: 59_999 } as const;

/**
 * coturn beside each media node: TURN over UDP and TCP on `port`, over TLS on `tlsPort`, relaying
 * from `relayPorts` (above PIPE_PORTS, so the two never collide), all open to clients.
 */
export const TURN = { port: 3478, tlsPort: 5349, relayPorts: { from: 60_000, to: 64_999 } } as const;

/** The RTMP push ingest each media node runs (RTMP_INGEST_PORT): open to encoders. */
export const RTMP_INGEST_PORT = 1935;

/** The WebRTC ports a node listens on: one UDP and one TCP port per worker. */
export const rtcPorts = (s: Pick<DeploymentSettings, 'rtcPort' | 'maxWorkersPerNode'>) => ({
  from: s.rtcPort,
  to: s.rtcPort + s.maxWorkersPerNode - 1,
});

/** How many deliveries an event gets before it goes to the events dead-letter queue (backoff up to 15 min each). */
export const WEBHOOK_MAX_RECEIVES = 20;

/** Metric names the cluster-metrics function writes (namespace Tessera, dimension Deployment). */
export const METRICS = {
  namespace: 'Tessera',
  load: 'MediaNodeLoad',
  reporting: 'MediaNodesReporting',
} as const;

/**
 * What each part may do, the same in CDK and Terraform (the tests hold both to these lists).
 * Resources are always the deployment's own: its table, `<name>-node-*` queues, its dead-letter
 * queue, its WebSocket API, its release object, its recordings bucket, its group.
 */
export const PERMISSIONS = {
  /** The adapters' Get/Put/Delete/Query and TransactWrite (which needs the per-item actions). */
  table: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:Query',
  ],
  /** Functions send commands to nodes' queues. */
  functionQueues: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
  /** The management API reads the dead letters (`GET /v1/dead-letters`: received with visibility 0, kept). */
  functionDeadLetters: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
  /** A node creates and reads its own queue and sends to its peers' (cascade). */
  nodeQueues: [
    'sqs:CreateQueue',
    'sqs:GetQueueUrl',
    'sqs:GetQueueAttributes',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:SendMessage',
  ],
  deadLetterQueue: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SendMessage'],
  /** A node publishes events (SendMessageBatch needs SendMessage). */
  eventsQueue: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
  /** The webhook function consumes events, and hides a failed one for its retry backoff. */
  webhookQueue: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
  ],
  /**
   * The webhook function reads services (their webhook), and keeps the recordings' records up to
   * date (RecordingProjection → DynamoRecordingStore: Query a room's recordings, Put one).
   */
  webhookTable: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
  secrets: ['secretsmanager:GetSecretValue'],
  /** On `<stage>/<method>/@connections/*`: POST (replies, events) and DELETE (closing a client). */
  connections: ['execute-api:ManageConnections'],
  connectionMethods: ['POST', 'DELETE'],
  release: ['s3:GetObject'],
  /**
   * A node's recordings in the deployment's recordings bucket (S3BlobStore), on `<bucket>/*`:
   * PutObject, GetObject (also what HeadObject needs) and DeleteObject.
   */
  recordingObjects: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
  /** ListObjectsV2, on the bucket itself (and HeadObject of a missing key then answers 404, not 403). */
  recordingBucket: ['s3:ListBucket'],
  lifecycle: ['autoscaling:CompleteLifecycleAction'],
} as const;
