import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import type { Logger } from '../../shared/logger.ts';
import { enableH265 } from '../codecs/h265.ts';
import { assertWorkerBinary } from './workerBinary.ts';

export interface WorkerPoolOptions {
  /** Number of workers; one per core by default (a worker is single-threaded). */
  size?: number;
  logger: Logger;
  /** Respawn a worker that dies, keeping the pool's size. */
  respawn?: boolean;
}

type Events = {
  /** A worker died; everything on it (routers, transports) is gone. */
  workerdied: [{ index: number; pid: number; error: Error }];
  workerreplaced: [{ index: number; worker: types.Worker }];
};

/**
 * A fixed-size set of mediasoup workers. mediasoup's Worker class owns each worker process;
 * the pool owns the set: start, death, respawn, close.
 */
export class WorkerPool extends EventEmitter<Events> {
  readonly #workers: types.Worker[];
  readonly #logger: Logger;
  readonly #respawn: boolean;
  #closed = false;

  private constructor(workers: types.Worker[], logger: Logger, respawn: boolean) {
    super();
    this.#workers = workers;
    this.#logger = logger;
    this.#respawn = respawn;
    workers.forEach((w, i) => {
      this.#watch(w, i);
    });
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    assertWorkerBinary();
    enableH265();
    const size = options.size ?? availableParallelism();
    const workers = await Promise.all(Array.from({ length: size }, () => WorkerPool.#spawn()));
    options.logger.info('media workers started', { count: size, pids: workers.map((w) => w.pid) });
    return new WorkerPool(workers, options.logger, options.respawn ?? true);
  }

  static #spawn(): Promise<types.Worker> {
    return mediasoup.createWorker({ logLevel: 'warn' });
  }

  get workers(): readonly types.Worker[] {
    return this.#workers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #watch(worker: types.Worker, index: number): void {
    worker.on('died', (error) => {
      this.#logger.error('media worker died', { index, pid: worker.pid, error });
      this.emit('workerdied', { index, pid: worker.pid, error });
      if (this.#respawn && !this.#closed) void this.#replace(index);
    });
  }

  async #replace(index: number): Promise<void> {
    const worker = await WorkerPool.#spawn();
    if (this.#closed) {
      worker.close();
      return;
    }
    this.#workers[index] = worker;
    this.#watch(worker, index);
    this.#logger.info('media worker replaced', { index, pid: worker.pid });
    this.emit('workerreplaced', { index, worker });
  }

  /** Closes every worker and with them everything they host. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers) worker.close();
  }
}
