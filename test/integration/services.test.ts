import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../shared/adapters/sqs/client.ts';
import { launchChromium } from '../harness/chromium.ts';
import { servePages } from '../harness/pageServer.ts';

// Each harness service is the real thing: these are the operations later suites rely on.
describe('test services', () => {
  it('redis-server: a round trip with expiry', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      await redis.set('services-test:key', 'value', 'EX', 30);
      expect(await redis.get('services-test:key')).toBe('value');
      expect(await redis.ttl('services-test:key')).toBeGreaterThan(0);
      expect(await redis.info('server')).toMatch(/redis_version:7\./);
    } finally {
      redis.disconnect();
    }
  });

  it('DynamoDB Local (found through AWS_ENDPOINT_URL_DYNAMODB): create, put, conditional put fails', async () => {
    const ddb = new DynamoDBClient({});
    const TableName = `services-test-${Date.now()}`;
    await ddb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const put = () =>
      ddb.send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: 'room#1' }, name: { S: 'lobby' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    ddb.destroy();
  });

  it('SQS emulator (found through AWS_ENDPOINT_URL_SQS): send, long-poll receive, delete', async () => {
    const sqs = createSqsClient();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `services-test-${Date.now()}` }));
    const receiving = sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1 }),
    );
    await new Promise((r) => setTimeout(r, 100)); // the long poll is parked before the send
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ id: 'cmd-1' }) }));
    const { Messages } = await receiving;
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages![0]!.Body!)).toEqual({ id: 'cmd-1' });
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages![0]!.ReceiptHandle! }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    sqs.destroy();
  });

  describe('headless Chromium', () => {
    let close: (() => Promise<void>) | undefined;
    afterAll(() => close?.());

    it('two RTCPeerConnections in one page decode a frame of the fake camera', async () => {
      const pages = await servePages({ '/': ['text/html', '<!doctype html><title>loopback</title>'] });
      const browser = await launchChromium();
      close = async () => {
        await browser.close();
        await pages.close();
      };
      const page = await browser.newPage();
      await page.goto(pages.url);
      const inbound = await page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
        const pc1 = new RTCPeerConnection();
        const pc2 = new RTCPeerConnection();
        pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
        pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
        for (const track of stream.getTracks()) pc1.addTrack(track, stream);
        await pc1.setLocalDescription(await pc1.createOffer());
        await pc2.setRemoteDescription(pc1.localDescription!);
        await pc2.setLocalDescription(await pc2.createAnswer());
        await pc1.setRemoteDescription(pc2.localDescription!);
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          const reports = [...(await pc2.getStats()).values()];
          const video = reports.find((r) => r.type === 'inbound-rtp' && r.kind === 'video');
          // (the first report with a decoded frame may not carry the frame size yet)
          if (video?.framesDecoded > 0 && video.frameWidth)
            return { framesDecoded: video.framesDecoded, width: video.frameWidth };
          await new Promise((r) => setTimeout(r, 50));
        }
        return { framesDecoded: 0, width: 0 };
      });
      expect(inbound.framesDecoded).toBeGreaterThan(0);
      expect(inbound.width).toBe(640);
    });
  });
});
