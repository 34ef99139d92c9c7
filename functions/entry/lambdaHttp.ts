// API Gateway HTTP API (payload v2) → the management app.
import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../../shared/config/load.ts';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { createLogger } from '../../shared/logger.ts';
import { installProcessGuards } from '../../shared/process/guards.ts';
import { createApp } from '../app.ts';
import { composeFunctions } from '../compose.ts';

const config = loadConfig(await resolveSecrets(process.env));
const logger = createLogger({ level: config.logLevel });
installProcessGuards(logger);
export const handler = handle(createApp(composeFunctions(config, logger)));
