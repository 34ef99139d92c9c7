import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { MEDIA_NODE_COMMAND } from '../../infra/mediaNodeUserData.ts';
import { TurnServer } from '../../media-node/turn/TurnServer.ts';
import { ensureTable } from '../../shared/adapters/dynamodb/table.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { bearer, type RoomSetup, roomBody } from './controlPlane.ts';
import { freePort } from './ports.ts';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A media node restarted on a swamped CI host took over 30 s to be ready (idle: 14–17 s). */
const READY_TIMEOUT_MS = 60_000;

/** Starts a command (`node …` runs on this Node) and resolves once its stdout matches `ready`. */
export function startProcess(
  name: string,
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<ChildProcess> {
  const [bin, ...args] = command[0] === 'node' ? [process.execPath, ...command.slice(1)] : command;
  const child = spawn(bin!, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not ready: no one will ever stop it (the caller got no handle), and a leftover media node
      // keeps a core busy under every later test.
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready in ${READY_TIMEOUT_MS / 1000} s:\n${output}`));
    }, READY_TIMEOUT_MS);
    const check = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', (c: Buffer) => {
      output = (output + c.toString()).slice(-8192);
      if (process.env.CLUSTER_LOGS) process.stderr.write(`[${name}] ${c}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${output}`));
    });
  });
}

export interface LocalCluster {
  /** The management functions' HTTP base URL. */
  url: string;
  /** The cluster's Redis (its own database on the shared server). */
  redisUrl: string;
  signalingUrl: string;
  /** The gateway's @connections management API (its own port, not the clients'). */
  managementUrl: string;
  superAuth(): Promise<string>;
  /**
   * A join token for a new participant of the room (created on first use). Rooms are created
   * with `views: []`: OWT's default view would start a mixer (ffmpeg) on every publish, too
   * costly for tests that do not mix; a test that mixes passes its `views`.
   */
  token(room: string, user: string, role?: string, setup?: RoomSetup): Promise<string>;
  /** Starts another media node process (with settings of its own: a node without ffmpeg…). */
  addNode(nodeId: string, nodeEnv?: Record<string, string>): Promise<ChildProcess>;
  nodes: Map<string, ChildProcess>;
  /** The control plane's processes (gateway with the signaling function, functions, webhooks), for CPU accounting. */
  controlPlane: { name: string; pid: number }[];
  /** The cluster's coturn, when started with TURN_SECRET and TURN_LISTEN_IP. */
  turnServer: TurnServer | undefined;
  close(): Promise<void>;
}

/**
 * The local cluster, as separate processes: the API Gateway WebSocket emulator running the
 * signaling Lambda handler, the management functions on Node, and media nodes; state in
 * redis-server and DynamoDB Local, commands over the SQS emulator (all from the global setup).
 */
export async function startLocalCluster(
  nodeIds = ['node-1'],
  extraEnv: Record<string, string> = {},
): Promise<LocalCluster> {
  const [gatewayPort, managementPort, functionsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
  ]);
  const run = randomUUID().slice(0, 8);
  const secrets = {
    SUPER_SERVICE_KEY: randomBytes(32).toString('base64url'),
    TOKEN_SECRET: randomBytes(32).toString('base64url'),
    MASTER_KEY: randomBytes(32).toString('base64url'),
  };
  // Its own Redis database: other suites share the server and report nodes of their own.
  const redisUrl = `${process.env.REDIS_URL}/${extraEnv.REDIS_DB ?? '1'}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...secrets,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    DYNAMODB_TABLE: `cluster-${run}`,
    SQS_QUEUE_PREFIX: `c${run}-`,
    WS_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${managementPort}`,
    MEDIA_WORKERS: '1',
    ...extraEnv,
  };
  // One TURN server for the cluster (as on AWS, where it runs beside each node, not inside it):
  // the nodes hand out its URLs with credentials from the shared secret.
  const turn = env.TURN_LISTEN_IP ? loadConfig(env).turn : undefined;
  const turnServer = turn?.server
    ? await TurnServer.start({ ...turn.server, secret: turn.secret })
    : undefined;
  if (turn) {
    env.TURN_URLS = turn.urls.join(',');
    delete env.TURN_LISTEN_IP;
  }
  // Suites that share a database number must not see each other's nodes, rooms or sessions
  // (a node id reused by an earlier suite would look alive, draining or loaded).
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const ddb = new DynamoDBClient({});
  await ensureTable(ddb, env.DYNAMODB_TABLE!);
  ddb.destroy();
  const nodes = new Map<string, ChildProcess>();
  const addNode = async (nodeId: string, nodeEnv: Record<string, string> = {}) => {
    // The media node starts exactly as the instances' user data starts it.
    const child = await startProcess(
      nodeId,
      MEDIA_NODE_COMMAND,
      { ...env, ...nodeEnv, NODE_ID: nodeId },
      /media node .* ready/,
    );
    nodes.set(nodeId, child);
    return child;
  };
  const [gateway, functions, webhooks] = await Promise.all([
    startProcess(
      'gateway',
      ['node', '--import', 'tsx', 'functions/entry/localGateway.ts'],
      { ...env, PORT: String(gatewayPort) },
      /gateway listening/,
    ),
    startProcess(
      'functions',
      ['node', '--import', 'tsx', 'functions/entry/node.ts'],
      { ...env, PORT: String(functionsPort) },
      /functions listening/,
    ),
    // Consumes the nodes' events: webhooks, and the recordings' records.
    startProcess(
      'webhooks',
      ['node', '--import', 'tsx', 'functions/entry/webhooks.ts'],
      env,
      /webhooks polling/,
    ),
    ...nodeIds.map((id) => addNode(id)),
  ]);
  const url = `http://127.0.0.1:${functionsPort}`;
  const superAuth = () => bearer('super', secrets.SUPER_SERVICE_KEY);
  const rooms = new Set<string>();
  return {
    url,
    redisUrl,
    signalingUrl: `ws://127.0.0.1:${gatewayPort}/ws`,
    managementUrl: env.WS_MANAGEMENT_ENDPOINT!,
    superAuth,
    nodes,
    addNode,
    controlPlane: [
      { name: 'gateway + signaling', pid: gateway.pid! },
      { name: 'functions', pid: functions.pid! },
      { name: 'webhooks', pid: webhooks.pid! },
    ],
    turnServer,
    async token(room, user, role = 'presenter', setup = {}) {
      if (!rooms.has(room)) {
        const created = await fetch(`${url}/v1/rooms`, {
          method: 'POST',
          headers: { authorization: await superAuth(), 'content-type': 'application/json' },
          body: JSON.stringify(roomBody(room, setup)),
        });
        if (created.status !== 201 && created.status !== 409)
          throw new Error(`room: ${created.status} ${await created.text()}`);
        rooms.add(room);
      }
      const res = await fetch(`${url}/v1/rooms/${room}/tokens`, {
        method: 'POST',
        headers: { authorization: await superAuth(), 'content-type': 'application/json' },
        body: JSON.stringify({ user, role }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      const all = [gateway, functions, webhooks, ...nodes.values()];
      await Promise.all(
        all.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      await turnServer?.close();
    },
  };
}

/** The test page's participant joins a room of the local cluster (a fresh token; signaling through its gateway). */
export async function joinCluster(
  page: import('playwright-core').Page,
  cluster: Pick<LocalCluster, 'url' | 'signalingUrl' | 'token'>,
  room: string,
  user: string,
) {
  return page.evaluate(([u, t, s]) => window.peer.join(u, t, { signalingUrl: s }), [
    cluster.url,
    await cluster.token(room, user),
    cluster.signalingUrl,
  ] as const);
}
