import { MediaNode } from '../media-node/MediaNode.ts';
import type { Config } from '../shared/config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import type { AppDeps } from './app.ts';

export interface EmbeddedSystem {
  deps: AppDeps;
  close(): Promise<void>;
}

/**
 * Composition root of the embedded mode: everything in one process. Which adapters run is
 * decided here, from configuration, and nowhere else.
 */
export async function composeEmbedded(config: Config, logger: Logger): Promise<EmbeddedSystem> {
  const mediaNode = await MediaNode.start({
    logger,
    ...(config.media.workers ? { workers: config.media.workers } : {}),
  });
  return {
    deps: { logger, mediaNode },
    async close() {
      mediaNode.close();
    },
  };
}
