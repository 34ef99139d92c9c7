import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { KeySealer } from '../../functions/services/secrets.ts';
import { verifyWebhook, WebhookHeaders } from '../../functions/webhooks/signing.ts';
import { DynamoRecordingStore } from '../../shared/adapters/dynamodb/DynamoRecordingStore.ts';
import { DynamoServiceStore } from '../../shared/adapters/dynamodb/DynamoServiceStore.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import { newEvent } from '../../shared/protocol/events.ts';
import { dynamoTable, sqsClient, uniqueId } from '../contract/adapters.ts';
import { startProcess } from '../harness/cluster.ts';

/**
 * The local cluster's webhook process (functions/entry/webhooks.ts), as a process: services and
 * their webhooks in DynamoDB, events from the SQS queue the media nodes publish to.
 */
describe('webhook poller process (local cluster)', () => {
  const sqs = sqsClient();
  afterAll(() => sqs.destroy());

  it('delivers queued events to the service webhook, signed, and leaves other services alone; recording events update their records', async () => {
    const masterKey = randomBytes(32).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const received: { id: string; verified: boolean; type: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const header = (n: string) => req.headers[n] as string | undefined;
        received.push({
          id: header(WebhookHeaders.id) ?? '',
          verified: verifyWebhook(
            secret,
            { timestamp: header(WebhookHeaders.timestamp), signature: header(WebhookHeaders.signature) },
            body,
          ),
          type: (JSON.parse(body) as { type: string }).type,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const table = await dynamoTable();
    const store = new DynamoServiceStore(table.db, table.table);
    const serviceId = uniqueId('svc');
    await store.create({
      id: serviceId,
      name: serviceId,
      sealedKey: 'v1.x',
      createdAt: new Date().toISOString(),
    });
    await store.setWebhook(serviceId, {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      sealedSecret: new KeySealer(masterKey).seal(secret),
      updatedAt: new Date().toISOString(),
    });
    // A recording started over REST (its record), whose node reports its end on the queue.
    const recordings = new DynamoRecordingStore(table.db, table.table);
    const recordingId = uniqueId('rec');
    await recordings.create({
      id: recordingId,
      roomId: `${serviceId}/r`,
      container: 'mkv',
      media: { video: { from: 'pub', format: { codec: 'vp8' }, status: 'active' } },
      storage: { host: 'n', file: `${recordingId}.mkv` },
      status: 'recording',
      nodeId: 'n',
      createdAt: new Date().toISOString(),
      bytes: 0,
      durationMs: 0,
      files: [],
      version: 2,
    });
    const prefix = `${uniqueId('p')}-`;
    const child = await startProcess(
      'webhooks',
      ['node', '--import', 'tsx', 'functions/entry/webhooks.ts'],
      {
        ...process.env,
        DYNAMODB_TABLE: table.table,
        SQS_QUEUE_PREFIX: prefix,
        MASTER_KEY: masterKey,
        LOG_LEVEL: 'warn',
      },
      /webhooks polling/,
    );
    try {
      const events = [
        newEvent('participant.joined', {
          serviceId,
          roomId: 'r',
          nodeId: 'n',
          data: { participant: { id: 'p', user: 'ana', role: 'presenter' } },
        }),
        newEvent('room.finished', { serviceId: 'someone-else', roomId: 'r', nodeId: 'n', data: {} }),
        newEvent('room.finished', { serviceId, roomId: 'r', nodeId: 'n', data: {} }),
        newEvent('recording.ended', {
          serviceId,
          roomId: 'r',
          nodeId: 'n',
          data: {
            recording: {
              id: recordingId,
              container: 'mkv',
              bytes: 4321,
              durationMs: 3000,
              files: [{ key: `${recordingId}.mkv`, bytes: 4321, location: `s3://b/${recordingId}.mkv` }],
              reason: 'stopped',
            },
          },
        }),
      ];
      await new SqsEventSink(sqs, { prefix }).publish(events);
      const deadline = Date.now() + 20_000;
      while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      expect(received.map((r) => r.id).sort()).toEqual([events[0]!.id, events[2]!.id, events[3]!.id].sort());
      expect(received.every((r) => r.verified)).toBe(true);
      expect(await recordings.get(`${serviceId}/r`, recordingId)).toMatchObject({
        status: 'stopped',
        bytes: 4321,
        durationMs: 3000,
        files: [{ key: `${recordingId}.mkv` }],
        version: 3,
      });
    } finally {
      child.kill('SIGTERM');
      server.close();
      table.close();
    }
  }, 60_000);
});
