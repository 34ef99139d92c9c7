import type { Logger } from '../logger.ts';

let installed = false;

/**
 * Keeps a server process serving when some code path forgets to handle a failure: a stray
 * rejection or exception is logged as one JSON line (message and name, no stack) instead of
 * ending REST, signaling and media for everyone. Installed once per process by its entry file.
 */
export function installProcessGuards(logger: Logger): void {
  if (installed) return; // once per process, whichever entry comes first
  installed = true;
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { error: reason });
  });
  process.on('uncaughtException', (error, origin) => {
    logger.error('uncaught exception', { error, origin });
  });
}
