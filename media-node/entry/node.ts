// A standalone media node; configuration comes from the environment only.
import { loadConfig } from '../../shared/config/load.ts';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { composeMediaNode } from '../compose.ts';

// On AWS the TURN secret comes by reference (TURN_SECRET_ARN), read once at start.
const config = loadConfig(await resolveSecrets(process.env));
const logger = createLogger({
  level: config.logLevel,
  bindings: { service: 'tessera-media-node', nodeId: config.nodeId },
});
installProcessGuards(logger);
const { node, close } = await composeMediaNode(config, logger);
process.stdout.write(`Tessera media node ${config.nodeId} ready\n`);
// SIGTERM drains (no new rooms; existing ones run until empty or DRAIN_TIMEOUT_SECONDS); SIGINT stops now.
process.once('SIGTERM', async () => {
  logger.info('draining', { timeoutSeconds: config.drainTimeoutSeconds });
  await node.drain(config.drainTimeoutSeconds * 1000);
  await close();
  process.exit(0);
});
process.once('SIGINT', async () => {
  await close();
  process.exit(0);
});
