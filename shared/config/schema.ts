import { z } from 'zod';
import { LogLevels } from '../logger.ts';
import { STRATEGIES } from '../placement/placement.ts';

const port = z.coerce.number().int().min(1).max(65535);
/** A positive bound with a default (limits on what a client or tenant may create). */
const count = (fallback: number) => z.coerce.number().int().min(1).max(1_000_000).default(fallback);
const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

/**
 * A shared secret must carry at least 32 bytes of entropy: 32+ characters, not obviously
 * patterned. Messages never echo the value (they end up in logs and ConfigError details).
 */
const secret = optionalString.superRefine((value, ctx) => {
  if (value === undefined) return;
  const problem =
    value.length < 32
      ? 'must be at least 32 characters'
      : new Set(value).size < 10
        ? 'too few distinct characters'
        : /^(.+?)\1+$/s.test(value)
          ? 'a repeated pattern'
          : undefined;
  if (problem)
    ctx.addIssue({
      code: 'custom',
      message: `weak secret (${problem}); use 32 random bytes, e.g. \`openssl rand -base64 32\``,
    });
});

/**
 * Every environment variable Tessera reads, in one schema. Which adapters a process uses is
 * decided by which of these are set (docs/architecture.md, "Three ways to run"), never by a separate "mode" switch.
 */
export const EnvSchema = z.object({
  PORT: port.default(8080).describe('HTTP port of the embedded server / functions on Node'),
  HOST: z.string().default('127.0.0.1').describe('address the HTTP server binds to'),
  LOG_LEVEL: z.enum(LogLevels).default('info'),
  MEDIA_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('mediasoup workers per media node (default: one per CPU core)'),
  FFMPEG_PATH: optionalString.describe('ffmpeg binary; else ffmpeg-static, else ffmpeg on PATH'),
  RECORDINGS_DIR: z
    .string()
    .min(1)
    .default('recordings')
    .describe('directory a media node writes recordings into (relative to the working directory)'),
  RECORDINGS_BUCKET: optionalString.describe(
    'S3 bucket recordings are uploaded to (else they stay in RECORDINGS_DIR); AWS_ENDPOINT_URL_S3 for an emulator',
  ),
  REDIS_URL: optionalString.describe('live state in Redis (else in memory)'),
  DYNAMODB_TABLE: optionalString.describe('durable state in this DynamoDB table (else in memory)'),
  SQS_QUEUE_PREFIX: optionalString.describe(
    'commands over SQS queues named <prefix>node-<id> (else in process)',
  ),
  SUPER_SERVICE_ID: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .default('super'),
  SUPER_SERVICE_KEY: secret.describe('key of the super service; generated in embedded mode'),
  TOKEN_SECRET: secret.describe('signs join tokens; must be shared by every function'),
  MASTER_KEY: secret.describe('seals service keys at rest'),
  TOKEN_SECRET_ARN: optionalString.describe('Secrets Manager secret holding TOKEN_SECRET (AWS)'),
  MASTER_KEY_ARN: optionalString.describe('Secrets Manager secret holding MASTER_KEY (AWS)'),
  SUPER_SERVICE_KEY_ARN: optionalString.describe('Secrets Manager secret holding SUPER_SERVICE_KEY (AWS)'),
  DEPLOYMENT_NAME: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .default('tessera')
    .describe('names the deployment in its CloudWatch metrics'),
  JOIN_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
  NODE_ID: z
    .string()
    .regex(/^[\w-]{1,40}$/)
    .default('embedded')
    .describe("this media node's id (its command queue)"),
  RTC_LISTEN_IP: z.string().default('127.0.0.1').describe('address the WebRTC ports bind to'),
  RTC_ANNOUNCED_ADDRESS: optionalString.describe(
    'address given to clients in ICE candidates (public IP or name)',
  ),
  RTC_PIPE_ANNOUNCED_ADDRESS: optionalString.describe(
    'address other media nodes reach pipe transports at (the private IP in a VPC); else RTC_ANNOUNCED_ADDRESS',
  ),
  RTC_PORT: port
    .optional()
    .describe('first WebRTC port (UDP+TCP); worker i uses RTC_PORT+i; random when unset'),
  NODE_REGION: optionalString.describe('region this media node reports (join tokens may prefer one)'),
  NODE_ISP: optionalString.describe('ISP this media node reports'),
  NODE_CAPABILITIES: optionalString
    .transform((s) =>
      s
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['sfu', 'mix', 'stream', 'record'])).optional())
    .describe(
      'at most what this media node offers, e.g. `sfu` for a forwarding-only node; else all its ffmpeg can do',
    ),
  PLACEMENT_STRATEGY: z
    .enum(STRATEGIES)
    .default('least-used')
    .describe('how new rooms are placed on media nodes'),
  ROOM_PEERS_PER_NODE: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(0)
    .describe('participants of one room per node before it spans another node (0: no limit)'),
  ROOM_PEERS_PER_WORKER: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(0)
    .describe('participants of one room per worker before it grows onto another worker (0: no limit)'),
  ROOM_EMPTY_GRACE_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86_400)
    .default(30)
    .describe('how long an empty room stays open on a media node'),
  DRAIN_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  WS_MANAGEMENT_ENDPOINT: optionalString.describe(
    "the WebSocket API's @connections endpoint (cluster modes)",
  ),
  DEMO_JOIN: z
    .enum(['on', 'off'])
    .default('off')
    .describe('embedded demo page join endpoint (POST /demo/join), answered for loopback callers only'),
  MAX_ROOMS_PER_SERVICE: count(10_000).describe('rooms one service may have'),
  TOKENS_PER_SERVICE_PER_MINUTE: count(6_000).describe('join tokens one service may issue per minute'),
  MAX_PRODUCERS_PER_PARTICIPANT: count(32).describe('audio/video streams one participant may publish'),
  MAX_DATA_PRODUCERS_PER_PARTICIPANT: count(16).describe('data channels one participant may publish'),
  MAX_CONSUMERS_PER_PARTICIPANT: count(500).describe('streams one participant may receive at once'),
  LOGINS_PER_PARTICIPANT_PER_MINUTE: count(30).describe(
    'logins (rejoins included) per participant per minute',
  ),
  SIGNALING_MESSAGES_PER_SECOND: count(50).describe(
    'signaling requests per connection per second (burst: twice)',
  ),
  MAX_PIPELINES_PER_ROOM: count(8).describe(
    'media pipelines (transcodes, mixers…) one room may run on a node',
  ),
  MAX_PIPELINES_PER_NODE: count(16).describe('media pipelines one media node runs at most'),
  SIGNALING_TEXTS_PER_SECOND: count(5).describe('text messages per connection per second (burst: twice)'),
  WS_PING_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(20)
    .describe('WebSocket ping interval; a socket missing two pongs is closed (half-open sockets)'),
  WS_MAX_CONNECTION_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(7200)
    .describe(
      "the gateway's maximum connection age (API Gateway: 2 h); clients reconnect before it (0: none)",
    ),
  SESSION_GRACE_SECONDS: z.coerce
    .number()
    .min(0)
    .max(3600)
    .default(30)
    .describe('how long a participant whose WebSocket dropped keeps its place, media and resume ticket'),
  SESSION_TICKET_REFRESH_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(300)
    .describe('how often a connected client renews its resume ticket (a ticket lives three times as long)'),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(2000)
    .describe('a Redis command not answered by then fails (503/1401) instead of hanging'),
  TURN_SECRET: secret.describe(
    "the TURN service's shared secret (coturn static-auth-secret): clients get short-lived credentials derived from it",
  ),
  TURN_SECRET_ARN: optionalString.describe('Secrets Manager secret holding TURN_SECRET (AWS)'),
  TURN_URLS: optionalString
    .transform((s) =>
      s
        ?.split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^turns?:[^\s,?]+(\?transport=(udp|tcp))?$/, 'a turn: or turns: URL'))
        .optional(),
    )
    .describe(
      'TURN URLs given to clients (comma-separated turn:/turns: URLs); else those of the TURN server started here',
    ),
  TURN_CREDENTIAL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .default(600)
    .describe('how long TURN credentials handed out at login admit new allocations'),
  TURN_LISTEN_IP: optionalString.describe(
    'start a TURN server (coturn) on this address: embedded server and local cluster',
  ),
  TURN_PORT: port.default(3478).describe('TURN port (UDP and TCP) of the TURN server started here'),
  TURN_TLS_PORT: port.default(5349).describe('TURN over TLS port of the TURN server started here'),
  TURN_TLS_CERT_FILE: optionalString.describe(
    'PEM certificate chain for TURN over TLS (its name in TURN_URLS); else a self-signed one, which browsers refuse',
  ),
  TURN_TLS_KEY_FILE: optionalString.describe('private key of TURN_TLS_CERT_FILE'),
  TURN_RELAY_PORTS: z
    .string()
    .default('49160-49400')
    .transform((s, ctx) => {
      const m = /^(\d{4,5})-(\d{4,5})$/.exec(s.trim());
      const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      if (!m || min < 1024 || max > 65535 || min > max) {
        ctx.addIssue({ code: 'custom', message: 'a port range like 49160-49400 (1024-65535)' });
        return z.NEVER;
      }
      return { min, max };
    })
    .describe('UDP ports the TURN server started here relays from'),
  TURN_ALLOW_LOOPBACK_PEERS: z
    .enum(['on', 'off'])
    .default('off')
    .describe('let the TURN server started here relay to loopback addresses (tests, one-machine setups)'),
  METRICS_PORT: port
    .optional()
    .describe(
      "Prometheus /metrics of a standalone media node (unset: none; the embedded server's is on PORT)",
    ),
  METRICS_HOST: z.string().default('127.0.0.1').describe('address the media node /metrics server binds to'),
  RTMP_INGEST_PORT: port
    .optional()
    .describe(
      "port of the media node's RTMP push ingest (encoders with a stream key); unset: no RTMP ingest",
    ),
  RTMP_INGEST_HOST: z.string().default('127.0.0.1').describe('address the RTMP ingest binds to'),
  RTMP_INGEST_URL: optionalString.describe(
    'the RTMP URL encoders are given, without the key (else rtmp://<RTC_ANNOUNCED_ADDRESS or RTMP_INGEST_HOST>:<port>/live)',
  ),
  WEBHOOK_ALLOW_PRIVATE_URLS: z
    .enum(['on', 'off'])
    .default('off')
    .describe(
      'let services set webhook URLs on loopback, private or link-local addresses (tests, one machine)',
    ),
  STREAMING_ALLOW_PRIVATE_URLS: z
    .enum(['on', 'off'])
    .default('off')
    .describe(
      'let streaming-outs and streaming-ins reach loopback or private addresses (a LAN server, tests); link-local never',
    ),
  STREAMING_IN_SCHEMES: z
    .string()
    .default('rtsp,rtmp,rtmps,http,https')
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['rtsp', 'rtmp', 'rtmps', 'http', 'https'])).min(1))
    .describe('URL schemes a streaming-in may pull (http and https: HLS), e.g. `rtsp` for cameras only'),
  DYNAMODB_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(2000)
    .describe('a DynamoDB request not answered by then fails (503/1401) instead of hanging'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  http: { port: number; host: string };
  logLevel: Env['LOG_LEVEL'];
  media: { workers: number | undefined };
  ffmpegPath: string | undefined;
  recordingsDir: string;
  /** The media node's RTMP push ingest; absent: none. */
  rtmpIngest: { port: number; host: string; url: string | undefined } | undefined;
  recordingsBucket: string | undefined;
  redisUrl: string | undefined;
  dynamodbTable: string | undefined;
  sqsQueuePrefix: string | undefined;
  superService: { id: string; key: string | undefined };
  tokenSecret: string | undefined;
  masterKey: string | undefined;
  joinTokenTtlSeconds: number;
  nodeId: string;
  rtc: {
    listenIp: string;
    announcedAddress: string | undefined;
    pipeAnnouncedAddress: string | undefined;
    port: number | undefined;
    peersPerWorker: number;
    emptyRoomGraceMs: number;
  };
  wsManagementEndpoint: string | undefined;
  deploymentName: string;
  drainTimeoutSeconds: number;
  location: { region: string | undefined; isp: string | undefined };
  /** At most what the media node offers (NODE_CAPABILITIES); undefined: all its ffmpeg can do. */
  capabilities: ('sfu' | 'mix' | 'stream' | 'record')[] | undefined;
  placementStrategy: (typeof STRATEGIES)[number];
  roomPeersPerNode: number;
  /** Embedded mode: whether POST /demo/join answers (loopback callers only). */
  demoJoin: boolean;
  wsPingIntervalMs: number;
  /** 0: connections may live forever. */
  wsMaxConnectionMs: number;
  /** Session resume (docs/api.md, "Sessions"). */
  session: { graceMs: number; ticketRefreshMs: number };
  storeTimeouts: { redisMs: number; dynamodbMs: number };
  limits: Limits;
  /** TURN: what participants are given at login, and the server this process starts, if any. */
  turn: TurnConfig | undefined;
  /** Prometheus on a standalone media node: no server when `port` is undefined. */
  metrics: { port: number | undefined; host: string };
  webhooks: { allowPrivateUrls: boolean };
  streaming: { allowPrivateUrls: boolean; inSchemes: readonly string[] };
}

export interface TurnConfig {
  secret: string;
  /** Given to clients; empty means no TURN for them. */
  urls: string[];
  credentialTtlSeconds: number;
  server: TurnServerConfig | undefined;
}

/** A coturn this process (embedded server, local cluster) starts and stops. */
export interface TurnServerConfig {
  listenIp: string;
  port: number;
  tlsPort: number;
  relayPorts: { min: number; max: number };
  allowLoopbackPeers: boolean;
  /** A real certificate for TLS; without one the server makes a self-signed one at start. */
  tls: { certFile: string; keyFile: string } | undefined;
}

/** What one tenant, participant or connection may create or send (docs/security.md). */
export interface Limits {
  roomsPerService: number;
  tokensPerServicePerMinute: number;
  producersPerParticipant: number;
  dataProducersPerParticipant: number;
  consumersPerParticipant: number;
  loginsPerParticipantPerMinute: number;
  messagesPerSecond: number;
  textsPerSecond: number;
  /** Media pipelines per room and per node (ffmpeg processes: CPU). */
  pipelinesPerRoom?: number;
  pipelinesPerNode?: number;
}
