import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { deliverQueued } from '../../functions/webhooks/queuedDelivery.ts';
import { verifyWebhook, WebhookHeaders } from '../../functions/webhooks/signing.ts';
import { WebhookDispatcher } from '../../functions/webhooks/WebhookDispatcher.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import { createLogger } from '../../shared/logger.ts';
import { newEvent } from '../../shared/protocol/events.ts';
import { sqsClient, uniqueId } from '../contract/adapters.ts';

describe('webhooks from the SQS event queue (as the Lambda and the local poller deliver them)', () => {
  const sqs = sqsClient();
  afterAll(() => sqs.destroy());

  it('retries a refused delivery after a backoff, with the same event id, and then acknowledges it', async () => {
    const secret = 'queue-test-secret-0123456789abcdefghijkl';
    const seen: { id: string; verified: boolean; status: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const status = seen.length === 0 ? 503 : 200;
        seen.push({
          id: req.headers[WebhookHeaders.id] as string,
          verified: verifyWebhook(
            secret,
            {
              timestamp: req.headers[WebhookHeaders.timestamp] as string,
              signature: req.headers[WebhookHeaders.signature] as string,
            },
            body,
          ),
          status,
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const logger = createLogger({ level: 'error', write: () => {} });
    const dispatcher = new WebhookDispatcher({
      targetOf: async (id) => (id === 'svc' ? { url, secret } : undefined),
      logger,
    });
    const queue = new SqsEventSink(sqs, { prefix: `${uniqueId('t')}-` });
    const event = newEvent('room.finished', { serviceId: 'svc', roomId: 'r', nodeId: 'n', data: {} });
    const orphan = newEvent('room.finished', { serviceId: 'no-hook', roomId: 'r', nodeId: 'n', data: {} });
    await queue.publish([event, orphan]);

    const counts: number[] = [];
    const deadline = Date.now() + 20_000;
    while (seen.filter((s) => s.status === 200).length === 0 && Date.now() < deadline) {
      const messages = await queue.receive({ waitMs: 1000, max: 10 });
      counts.push(...messages.filter((m) => m.body.includes(event.id)).map((m) => m.receiveCount));
      const failed = new Set(
        await deliverQueued(dispatcher, messages, { logger, delay: (r, s) => queue.delay(r, s) }),
      );
      await queue.ack(messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receipt));
    }
    server.close();
    expect(seen.map((s) => s.status)).toEqual([503, 200]);
    expect(seen.every((s) => s.id === event.id && s.verified)).toBe(true);
    expect(counts).toEqual([1, 2]);
    // Delivered and the event for a service with no webhook are both gone from the queue.
    expect(await queue.receive({ waitMs: 1000, max: 10 })).toEqual([]);
  }, 30_000);
});
