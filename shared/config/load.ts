import { ConfigError } from '../errors.ts';
import { describeIssue, issuesOf } from '../protocol/issues.ts';
import { turnUrlsFor } from '../turn/credentials.ts';
import { type Config, type Env, EnvSchema, type TurnConfig } from './schema.ts';

/** Reads and validates the environment once; a bad value stops the process with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = issuesOf(parsed.error).map(describeIssue);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { problems });
  }
  const e = parsed.data;
  return {
    http: { port: e.PORT, host: e.HOST },
    logLevel: e.LOG_LEVEL,
    media: { workers: e.MEDIA_WORKERS },
    ffmpegPath: e.FFMPEG_PATH,
    recordingsDir: e.RECORDINGS_DIR,
    recordingsBucket: e.RECORDINGS_BUCKET,
    rtmpIngest:
      e.RTMP_INGEST_PORT === undefined
        ? undefined
        : { port: e.RTMP_INGEST_PORT, host: e.RTMP_INGEST_HOST, url: e.RTMP_INGEST_URL },
    redisUrl: e.REDIS_URL,
    dynamodbTable: e.DYNAMODB_TABLE,
    sqsQueuePrefix: e.SQS_QUEUE_PREFIX,
    superService: { id: e.SUPER_SERVICE_ID, key: e.SUPER_SERVICE_KEY },
    tokenSecret: e.TOKEN_SECRET,
    masterKey: e.MASTER_KEY,
    joinTokenTtlSeconds: e.JOIN_TOKEN_TTL_SECONDS,
    nodeId: e.NODE_ID,
    rtc: {
      listenIp: e.RTC_LISTEN_IP,
      announcedAddress: e.RTC_ANNOUNCED_ADDRESS,
      pipeAnnouncedAddress: e.RTC_PIPE_ANNOUNCED_ADDRESS,
      port: e.RTC_PORT,
      peersPerWorker: e.ROOM_PEERS_PER_WORKER,
      emptyRoomGraceMs: e.ROOM_EMPTY_GRACE_SECONDS * 1000,
    },
    wsManagementEndpoint: e.WS_MANAGEMENT_ENDPOINT,
    deploymentName: e.DEPLOYMENT_NAME,
    drainTimeoutSeconds: e.DRAIN_TIMEOUT_SECONDS,
    location: { region: e.NODE_REGION, isp: e.NODE_ISP },
    capabilities: e.NODE_CAPABILITIES,
    placementStrategy: e.PLACEMENT_STRATEGY,
    roomPeersPerNode: e.ROOM_PEERS_PER_NODE,
    demoJoin: e.DEMO_JOIN === 'on',
    wsPingIntervalMs: e.WS_PING_INTERVAL_SECONDS * 1000,
    wsMaxConnectionMs: e.WS_MAX_CONNECTION_SECONDS * 1000,
    session: {
      graceMs: e.SESSION_GRACE_SECONDS * 1000,
      ticketRefreshMs: e.SESSION_TICKET_REFRESH_SECONDS * 1000,
    },
    storeTimeouts: { redisMs: e.REDIS_COMMAND_TIMEOUT_MS, dynamodbMs: e.DYNAMODB_TIMEOUT_MS },
    turn: turnConfig(e),
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    webhooks: { allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS === 'on' },
    streaming: {
      allowPrivateUrls: e.STREAMING_ALLOW_PRIVATE_URLS === 'on',
      inSchemes: e.STREAMING_IN_SCHEMES,
    },
    limits: {
      roomsPerService: e.MAX_ROOMS_PER_SERVICE,
      tokensPerServicePerMinute: e.TOKENS_PER_SERVICE_PER_MINUTE,
      producersPerParticipant: e.MAX_PRODUCERS_PER_PARTICIPANT,
      dataProducersPerParticipant: e.MAX_DATA_PRODUCERS_PER_PARTICIPANT,
      consumersPerParticipant: e.MAX_CONSUMERS_PER_PARTICIPANT,
      loginsPerParticipantPerMinute: e.LOGINS_PER_PARTICIPANT_PER_MINUTE,
      messagesPerSecond: e.SIGNALING_MESSAGES_PER_SECOND,
      textsPerSecond: e.SIGNALING_TEXTS_PER_SECOND,
      pipelinesPerRoom: e.MAX_PIPELINES_PER_ROOM,
      pipelinesPerNode: e.MAX_PIPELINES_PER_NODE,
    },
  };
}

/**
 * TURN is on when a secret is set: clients get TURN_URLS, or the URLs of the server this process
 * starts on TURN_LISTEN_IP (announced as RTC_ANNOUNCED_ADDRESS when set, like the media ports).
 */
function turnConfig(e: Env): TurnConfig | undefined {
  if (!e.TURN_SECRET) {
    if (e.TURN_URLS || e.TURN_LISTEN_IP)
      throw new ConfigError('invalid configuration: TURN_URLS and TURN_LISTEN_IP need TURN_SECRET', {
        problems: ['TURN_SECRET: required with TURN_URLS or TURN_LISTEN_IP'],
      });
    return undefined;
  }
  if (!e.TURN_TLS_CERT_FILE !== !e.TURN_TLS_KEY_FILE)
    throw new ConfigError('invalid configuration: TURN_TLS_CERT_FILE and TURN_TLS_KEY_FILE go together', {
      problems: ['TURN_TLS_CERT_FILE, TURN_TLS_KEY_FILE: set both or neither'],
    });
  const server = e.TURN_LISTEN_IP
    ? {
        listenIp: e.TURN_LISTEN_IP,
        port: e.TURN_PORT,
        tlsPort: e.TURN_TLS_PORT,
        relayPorts: e.TURN_RELAY_PORTS,
        allowLoopbackPeers: e.TURN_ALLOW_LOOPBACK_PEERS === 'on',
        tls:
          e.TURN_TLS_CERT_FILE && e.TURN_TLS_KEY_FILE
            ? { certFile: e.TURN_TLS_CERT_FILE, keyFile: e.TURN_TLS_KEY_FILE }
            : undefined,
      }
    : undefined;
  const announced = e.RTC_ANNOUNCED_ADDRESS ?? e.TURN_LISTEN_IP;
  const urls =
    e.TURN_URLS ??
    (server && announced && announced !== '0.0.0.0' && announced !== '::'
      ? turnUrlsFor(announced, server.port, server.tlsPort)
      : []);
  return { secret: e.TURN_SECRET, urls, credentialTtlSeconds: e.TURN_CREDENTIAL_TTL_SECONDS, server };
}
