// API Gateway WebSocket API ($connect, $disconnect, $default) → the signaling function.
import { loadConfig } from '../../shared/config/load.ts';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { composeSignaling } from '../compose.ts';
import { websocketHandler } from '../signaling/websocketHandler.ts';

const config = loadConfig(await resolveSecrets(process.env));
const logger = createLogger({ level: config.logLevel });
installProcessGuards(logger);
export const handler = websocketHandler(composeSignaling(config, logger).signaling);
