// Embedded mode: REST, signaling and one media node in one process, state in memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { createApp } from '../app.ts';
import { composeEmbedded } from '../composeEmbedded.ts';
import { serveNode } from '../http/serveNode.ts';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera' } });
installProcessGuards(logger);
const system = await composeEmbedded(config, logger);
const server = await serveNode(createApp(system.deps), config.http.host, config.http.port);
system.gateway.attach(server.server);
logger.info('tessera embedded server listening', { url: server.url });
process.stdout.write(
  `Tessera is running: ${server.url}/ (demo page; API under /v1, health at ${server.url}/healthz)\n`,
);
if (system.superService.generated) {
  // A generated key is never logged: it goes to a file only this user can read.
  mkdirSync('.tessera', { recursive: true });
  writeFileSync(
    '.tessera/super-service.json',
    JSON.stringify({ id: system.superService.id, key: system.superService.key }),
    { mode: 0o600 },
  );
  process.stdout.write('Super service credentials (generated for this run): .tessera/super-service.json\n');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await server.close();
    await system.close();
    process.exit(0);
  });
}
