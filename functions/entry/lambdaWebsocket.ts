// API Gateway WebSocket API ($connect, $disconnect, $default) → the signaling function.
import { loadConfig } from '../../shared/config/load.ts';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { createLogger } from '../../shared/logger.ts';
import { composeSignaling } from '../compose.ts';
import { websocketHandler } from '../signaling/websocketHandler.ts';

const config = loadConfig(await resolveSecrets(process.env));
export const handler = websocketHandler(
  composeSignaling(config, createLogger({ level: config.logLevel })).signaling,
);
