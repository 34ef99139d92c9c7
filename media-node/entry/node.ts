// A standalone media node; configuration comes from the environment only.
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { composeMediaNode } from '../compose.ts';

const config = loadConfig();
const logger = createLogger({
  level: config.logLevel,
  bindings: { service: 'tessera-media-node', nodeId: config.nodeId },
});
const { close } = await composeMediaNode(config, logger);
process.stdout.write(`Tessera media node ${config.nodeId} ready\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await close();
    process.exit(0);
  });
}
