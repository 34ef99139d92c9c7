import type { Logger } from '../shared/logger.ts';
import { WorkerPool } from './workers/WorkerPool.ts';

export interface MediaNodeOptions {
  workers?: number;
  logger: Logger;
}

export interface MediaNodeHealth {
  workers: number;
  workersAlive: number;
}

/**
 * One media node: the mediasoup worker pool and, in later stages, the SFU rooms, ffmpeg jobs
 * and the command consumer that drive it. Wiring, start and close live here; the media
 * objects themselves live under workers/, sfu/ and ffmpeg/.
 */
export class MediaNode {
  readonly #pool: WorkerPool;
  #closed = false;

  private constructor(pool: WorkerPool) {
    this.#pool = pool;
  }

  static async start(options: MediaNodeOptions): Promise<MediaNode> {
    const logger = options.logger.child({ component: 'media-node' });
    const pool = await WorkerPool.create({ logger, ...(options.workers ? { size: options.workers } : {}) });
    return new MediaNode(pool);
  }

  get workers(): WorkerPool {
    return this.#pool;
  }

  health(): MediaNodeHealth {
    const all = this.#pool.workers;
    return { workers: all.length, workersAlive: all.filter((w) => !w.closed && !w.died).length };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
  }
}
