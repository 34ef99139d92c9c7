// SQS (<prefix>events) → one signed POST per event to its service's webhook; failures go back to
// the queue (partial batch response), hidden for a jittered backoff, with the same event id.

import { adaptersFor } from '../../shared/adapters/select.ts';
import { createSqsClient } from '../../shared/adapters/sqs/client.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { ConfigError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { webhookSettings } from '../compose.ts';
import { eventProjections } from '../projections.ts';
import { deliverQueued } from '../webhooks/queuedDelivery.ts';
import { WebhookDispatcher } from '../webhooks/WebhookDispatcher.ts';

/** The part of Lambda's SQS event this handler reads. */
interface SqsEvent {
  Records: {
    messageId: string;
    body: string;
    receiptHandle: string;
    attributes: { ApproximateReceiveCount: string };
  }[];
}

const config = loadConfig(await resolveSecrets(process.env));
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-webhooks' } });
installProcessGuards(logger);
if (!config.sqsQueuePrefix) throw new ConfigError('set SQS_QUEUE_PREFIX for the webhook function');
const adapters = adaptersFor(config, logger);
// Only MASTER_KEY: webhook secrets are sealed under it; this function holds no other secret.
if (!config.masterKey) throw new ConfigError('set MASTER_KEY (or MASTER_KEY_ARN) for the webhook function');
const settings = webhookSettings(adapters, { masterKey: config.masterKey }, config);
const dispatcher = new WebhookDispatcher({ targetOf: (id) => settings.targetOf(id), logger });
// The same events keep the recordings' records and the streaming-outs' status up to date.
const projections = eventProjections(adapters, logger);
const queue = new SqsEventSink(createSqsClient(), { prefix: config.sqsQueuePrefix });

export async function handler(event: SqsEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failed = await deliverQueued(
    dispatcher,
    event.Records.map((r) => ({
      messageId: r.messageId,
      body: r.body,
      receipt: r.receiptHandle,
      receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1,
    })),
    {
      logger,
      delay: (receipt, seconds) => queue.delay(receipt, seconds),
      project: projections.apply,
    },
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
