// The webhook function on Node (local cluster): polls <prefix>events as Lambda's SQS trigger would.

import { adaptersFor } from '../../shared/adapters/select.ts';
import { createSqsClient } from '../../shared/adapters/sqs/client.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { ConfigError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { webhookSettings } from '../compose.ts';
import { eventProjections } from '../projections.ts';
import { deliverQueued } from '../webhooks/queuedDelivery.ts';
import { WebhookDispatcher } from '../webhooks/WebhookDispatcher.ts';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-webhooks' } });
installProcessGuards(logger);
if (!config.sqsQueuePrefix) throw new ConfigError('set SQS_QUEUE_PREFIX for the webhook poller');
const adapters = adaptersFor(config, logger);
// Only MASTER_KEY: webhook secrets are sealed under it; this function holds no other secret.
if (!config.masterKey) throw new ConfigError('set MASTER_KEY (or MASTER_KEY_ARN) for the webhook function');
const settings = webhookSettings(adapters, { masterKey: config.masterKey }, config);
const dispatcher = new WebhookDispatcher({ targetOf: (id) => settings.targetOf(id), logger });
// The same events keep the recordings' records and the streaming-outs' status up to date.
const projections = eventProjections(adapters, logger);
const sqs = createSqsClient();
const queue = new SqsEventSink(sqs, { prefix: config.sqsQueuePrefix });
let running = true;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (running = false));
process.stdout.write(`Tessera webhooks polling ${queue.queueName}\n`);
while (running) {
  try {
    const messages = await queue.receive({ waitMs: 1000, max: 10 });
    const failed = new Set(
      await deliverQueued(dispatcher, messages, {
        logger,
        delay: (r, s) => queue.delay(r, s),
        project: projections.apply,
      }),
    );
    await queue.ack(messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receipt));
  } catch (error) {
    logger.error('event queue unavailable', { error });
    await new Promise((r) => setTimeout(r, 1000));
  }
}
sqs.destroy();
await adapters.close();
process.exit(0);
