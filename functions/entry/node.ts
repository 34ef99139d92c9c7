// The management functions on Node (local cluster): the same app as Lambda, distributed adapters.
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { createApp } from '../app.ts';
import { composeFunctions } from '../compose.ts';
import { serveNode } from '../http/serveNode.ts';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-functions' } });
installProcessGuards(logger);
const deps = composeFunctions(config, logger);
const server = await serveNode(createApp(deps), config.http.host, config.http.port);
process.stdout.write(`Tessera functions listening: ${server.url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await server.close();
    await deps.close();
    process.exit(0);
  });
}
