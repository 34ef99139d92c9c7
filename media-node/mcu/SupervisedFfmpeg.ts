import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/logger.ts';
import { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { backoffMs } from '../pipelines/Pipelines.ts';

export interface SupervisedOptions {
  /** The arguments of the next run (read at every spawn: a resize changes them). */
  args: () => string[];
  stdin?: 'pipe' | 'ignore';
  stdout?: 'progress' | 'raw';
  logger: Logger;
  name: string;
}

type Events = { spawn: [FfmpegProcess]; data: [Buffer] };

/**
 * One helper ffmpeg of a mixer (an input's decoder, a mix-minus encoder): kept running, respawned
 * after a crash with capped exponential backoff (500 ms doubling to 4 s: a mixer's output must
 * resume within ~2 s), and respawned at once by restart() (new arguments; also the first start,
 * so that listeners are attached before). Never gives up while
 * open: the mixer's other parts keep going whatever one input does. close() is idempotent.
 */
export class SupervisedFfmpeg extends EventEmitter<Events> {
  readonly #o: SupervisedOptions;
  #process: FfmpegProcess | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #crashes = 0;
  #closed = false;

  constructor(options: SupervisedOptions) {
    super();
    this.#o = options;
  }

  get process(): FfmpegProcess | undefined {
    return this.#process;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the first run, or a new run now (the old one is killed): new arguments take effect. */
  restart(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const old = this.#process;
    this.#process = undefined;
    void old?.close(200);
    this.#crashes = 0;
    this.#spawn();
  }

  #spawn(): void {
    if (this.#closed) return;
    const spawnedAt = Date.now();
    let process: FfmpegProcess;
    try {
      process = new FfmpegProcess({
        args: ['-nostats', ...this.#o.args()],
        stdin: this.#o.stdin ?? 'ignore',
        stdout: this.#o.stdout ?? 'raw',
      });
    } catch (error) {
      this.#o.logger.warn('mixer ffmpeg could not start', { name: this.#o.name, error });
      this.#scheduleRespawn(spawnedAt);
      return;
    }
    this.#process = process;
    process.on('data', (chunk) => {
      if (this.#process === process) this.emit('data', chunk);
    });
    void process.exited().then((exit) => {
      if (this.#closed || this.#process !== process) return;
      this.#process = undefined;
      this.#o.logger.warn('mixer ffmpeg exited', {
        name: this.#o.name,
        ...exit,
        stderr: process.stderrTail.slice(-400),
      });
      this.#scheduleRespawn(spawnedAt);
    });
    this.emit('spawn', process);
  }

  #scheduleRespawn(spawnedAt: number): void {
    if (Date.now() - spawnedAt > 30_000) this.#crashes = 0;
    this.#crashes++;
    this.#timer = setTimeout(() => this.#spawn(), backoffMs(this.#crashes, { baseMs: 500, maxMs: 4000 }));
    this.#timer.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    void this.#process?.close(300);
    this.#process = undefined;
    this.removeAllListeners();
  }
}

/**
 * Cuts a byte stream (a pipe's chunks, of any size) into frames of `size` bytes. A partial frame
 * waits for the next chunk; a frame is a fresh Buffer the caller may keep.
 */
export class FrameAssembler {
  readonly size: number;
  readonly #onFrame: (frame: Buffer) => void;
  #pending: Buffer = Buffer.alloc(0);

  constructor(size: number, onFrame: (frame: Buffer) => void) {
    this.size = size;
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (data.length >= this.size) {
      this.#onFrame(Buffer.from(data.subarray(0, this.size)));
      data = data.subarray(this.size);
    }
    this.#pending = Buffer.from(data);
  }
}
