import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/logger.ts';
import { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { backoffMs } from '../pipelines/Pipelines.ts';

export interface SupervisedOptions {
  /** The arguments of the next run (read at every spawn: a resize changes them). */
  args: () => string[];
  stdin?: 'pipe' | 'ignore';
  stdout?: 'progress' | 'raw';
  /** Media read from this Unix socket instead of stdout (FfmpegProcessOptions.rawSocket). */
  rawSocket?: string;
  logger: Logger;
  name: string;
  /** The first respawn's delay after a crash (then doubling to 4 s, jittered to 50–100 %); 500 ms unless said. */
  respawnMs?: number;
  /**
   * A respawn after a crash waits (up to RESPAWN_WAIT_MAX_MS) until this holds. A mixer's
   * decoders wait for its encoder's first frame: after a crash of them all (the process group
   * killed) the encoder starts alone, on a busy machine several ffmpeg start-ups at once take
   * seconds, and the viewers get frames again (each region's last one) while the decoders come
   * back after it.
   */
  ready?: () => boolean;
  /**
   * Runs a spawn when the owner allows (a mixer: between two of its frames). Spawning blocks
   * Node's event loop for 10–70 ms (a fork of a large process); a layout change or crash that
   * starts 16 decoders at once held a 4×4 mix's frames for 800 ms.
   */
  gate?: (spawn: () => void) => void;
}

/** A mixer's encoder's first restart after a crash (Pipeline.restartBaseMs): at once, jittered to 50–100 ms. */
export const MIXER_RESTART_MS = 100;

/** How long a respawn waits for `ready` at most, and how often it looks. */
const RESPAWN_WAIT_MAX_MS = 4000;
const RESPAWN_POLL_MS = 100;

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
  /** Bumped by restart(): a restart waiting for its old run to exit yields to a later one. */
  #generation = 0;
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

  /**
   * Starts the first run, or a new run now: new arguments take effect. The old run is killed
   * outright (a decoder has nothing to finish) and the new one spawned once it has exited: it
   * holds the input's RTP port, and a new run spawned before would fail to bind it (then wait
   * out a crash backoff).
   */
  restart(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const old = this.#process;
    this.#process = undefined;
    this.#crashes = 0;
    const generation = ++this.#generation;
    const spawn = () => {
      if (generation === this.#generation && !this.#process) this.#spawn();
    };
    if (!old) {
      this.#gated(spawn);
      return;
    }
    void old.close(0).then(() => this.#gated(spawn));
  }

  #gated(spawn: () => void): void {
    if (this.#closed) return;
    if (this.#o.gate) this.#o.gate(spawn);
    else spawn();
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
        ...(this.#o.rawSocket ? { rawSocket: this.#o.rawSocket } : {}),
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
    const delay = backoffMs(this.#crashes, { baseMs: this.#o.respawnMs ?? 500, maxMs: 4000 });
    const until = Date.now() + delay + RESPAWN_WAIT_MAX_MS;
    const attempt = () => {
      if (this.#o.ready && !this.#o.ready() && Date.now() < until) {
        this.#timer = setTimeout(attempt, RESPAWN_POLL_MS);
        this.#timer.unref();
        return;
      }
      const generation = this.#generation;
      this.#gated(() => {
        if (generation === this.#generation && !this.#process) this.#spawn();
      });
    };
    this.#timer = setTimeout(attempt, delay);
    this.#timer.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    // Killed at once: a decoder has nothing to finish, and a grace timer may outlive the process that set it.
    void this.#process?.close(0);
    this.#process = undefined;
    this.removeAllListeners();
  }
}

/**
 * Cuts a byte stream (a pipe's chunks, of any size) into frames of `size` bytes. Each byte is
 * copied once, into the frame being filled (a pipe delivers a 1280x720 frame in ~20 chunks:
 * concatenating them as they come would copy it over and over). A frame is a fresh Buffer the
 * caller may keep, or hand back with recycle().
 */
export class FrameAssembler {
  readonly size: number;
  readonly #onFrame: (frame: Buffer) => void;
  #frame: Buffer;
  #filled = 0;
  readonly #spare: Buffer[] = [];

  constructor(size: number, onFrame: (frame: Buffer) => void) {
    this.size = size;
    this.#onFrame = onFrame;
    this.#frame = Buffer.allocUnsafe(size);
  }

  /** A frame the caller no longer holds, to fill again (fresh 0.3–1.4 MB buffers cost page faults). */
  recycle(frame: Buffer): void {
    if (frame.length === this.size && this.#spare.length < 2) this.#spare.push(frame);
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.size - this.#filled, chunk.length - offset);
      chunk.copy(this.#frame, this.#filled, offset, offset + n);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.size) {
        const frame = this.#frame;
        this.#frame = this.#spare.pop() ?? Buffer.allocUnsafe(this.size);
        this.#filled = 0;
        this.#onFrame(frame);
      }
    }
  }
}
