import { randomUUID } from 'node:crypto';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deployedNodeUserData, MEDIA_NODE_COMMAND } from '../../infra/mediaNodeUserData.ts';
import { nodeCapabilities } from '../../media-node/ffmpeg/capabilities.ts';
import { clusterKeys } from '../../shared/adapters/redis/keys.ts';
import type { NodeReport } from '../../shared/ports/nodes.ts';
import { sqsClient } from '../contract/adapters.ts';
import { startProcess } from '../harness/cluster.ts';
import { freePort } from '../harness/ports.ts';
import { freeUdpPortPair, udpFree } from '../harness/udp.ts';

/** The environment file a deployed node's user data writes, read back from the script. */
const environmentFile = (userData: string) =>
  Object.fromEntries(
    userData
      .match(/<<'ENV'\n([\s\S]*?)\nENV\n/)![1]!
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );

describe('a media node as the deployment starts it', () => {
  const redis = new Redis(`${process.env.REDIS_URL}/6`);
  afterAll(() => redis.disconnect());

  it('runs from the user data’s command and environment file alone, and reports itself in Redis', async () => {
    const run = randomUUID().slice(0, 8);
    const nodeId = `ip-10-40-0-${run}`;
    const rtcPort = await freeUdpPortPair();
    const userData = deployedNodeUserData({
      releaseUrl: 's3://release/r.zip',
      region: 'us-east-1',
      redisUrl: `${process.env.REDIS_URL}/6`,
      queuePrefix: `boot${run}-`,
      managementUrl: 'http://127.0.0.1:9',
      rtcPort: String(rtcPort),
      drainTimeoutSeconds: '5',
      turnSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:turn',
      lifecycle: { groupName: 'g', launchHook: 'node-ready', terminateHook: 'node-drain' },
    });
    const rtmpPort = await freePort();
    const env = {
      ...environmentFile(userData),
      // What the user data adds from the instance metadata; loopback here, the public address there.
      NODE_ID: nodeId,
      RTC_ANNOUNCED_ADDRESS: '127.0.0.1',
      RTC_LISTEN_IP: '127.0.0.1',
      // The RTMP ingest on loopback and a free port here (0.0.0.0:1935 on the instance).
      RTMP_INGEST_HOST: '127.0.0.1',
      RTMP_INGEST_PORT: String(rtmpPort),
      // What the instance provides: a shell's PATH and HOME, and AWS access (its role there, the emulator here).
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      AWS_ENDPOINT_URL_SQS: process.env.AWS_ENDPOINT_URL_SQS!,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    expect(Object.keys(environmentFile(userData)).sort()).toEqual(
      [
        'AWS_REGION',
        'DRAIN_TIMEOUT_SECONDS',
        'LOG_LEVEL',
        'NODE_REGION',
        'REDIS_URL',
        'RTC_LISTEN_IP',
        'RTC_PORT',
        'RTMP_INGEST_HOST',
        'RTMP_INGEST_PORT',
        'SQS_QUEUE_PREFIX',
        'WS_MANAGEMENT_ENDPOINT',
      ].sort(),
    );

    const node = await startProcess('media-node', MEDIA_NODE_COMMAND, env, /media node .* ready/);
    const exited = new Promise<number | null>((resolve) => node.once('exit', (code) => resolve(code)));

    let report: NodeReport | undefined;
    for (let i = 0; i < 50 && !report; i++) {
      const raw = await redis.get(clusterKeys.node(nodeId));
      report = raw ? JSON.parse(raw) : undefined;
      if (!report) await new Promise((r) => setTimeout(r, 100));
    }
    expect(report).toMatchObject({
      id: nodeId,
      region: 'us-east-1',
      draining: false,
      pipelines: 0,
      // Where encoders push: the announced address and the ingest's port.
      rtmpIngestUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    });
    // What this machine's ffmpeg can run, as the node probed it (sfu always).
    expect(report!.capabilities).toEqual(await nodeCapabilities());
    expect(report!.workersAlive).toBe(report!.workers);
    expect(Date.now() - report!.reportedAt).toBeLessThan(3000);
    expect(await redis.zscore(clusterKeys.nodes, nodeId)).not.toBeNull();

    const sqs = sqsClient();
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `boot${run}-node-${nodeId}` }));
    sqs.destroy();
    expect(QueueUrl).toContain(`boot${run}-node-${nodeId}`);
    expect(await udpFree(rtcPort)).toBe(false); // worker 0's WebRtcServer holds RTC_PORT

    // Stopping the service sends SIGTERM: the node drains (no rooms here) and exits cleanly.
    node.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
