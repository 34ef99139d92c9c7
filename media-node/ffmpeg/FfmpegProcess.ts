import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ffmpeg } from './resolveFfmpeg.ts';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FfmpegProcessOptions {
  args: string[];
  /** Defaults to the binary resolveFfmpeg() chooses. */
  binary?: string;
  /** How much of stderr to keep for diagnostics. */
  stderrTailBytes?: number;
}

type Events = { exit: [FfmpegExit]; stderr: [string] };

/**
 * Owns exactly one ffmpeg child process: spawn, stdio, exit and shutdown. Callers describe
 * the job with arguments; nothing else in Tessera spawns ffmpeg.
 */
export class FfmpegProcess extends EventEmitter<Events> {
  readonly #child: ChildProcess;
  readonly #exited: Promise<FfmpegExit>;
  readonly #stderrTailBytes: number;
  #stderrTail = '';
  #closed = false;

  constructor(options: FfmpegProcessOptions) {
    super();
    this.#stderrTailBytes = options.stderrTailBytes ?? 16_384;
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', ...options.args];
    this.#child = spawn(options.binary ?? ffmpeg().path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout?.resume();
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-this.#stderrTailBytes);
      this.emit('stderr', chunk);
    });
    this.#exited = new Promise((resolve) => {
      const done = (exit: FfmpegExit) => {
        this.#closed = true;
        resolve(exit);
        this.emit('exit', exit);
      };
      this.#child.once('exit', (code, signal) => done({ code, signal }));
      this.#child.once('error', () => done({ code: null, signal: null }));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The last part of ffmpeg's stderr, for error messages and tests. */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** Resolves when the process has exited, however it ended. */
  exited(): Promise<FfmpegExit> {
    return this.#exited;
  }

  /**
   * Asks ffmpeg to finish cleanly (SIGINT lets muxers write trailers), then kills it if it
   * has not exited within the grace period. Idempotent. An RTP/SDP input blocked on a silent
   * socket only notices SIGINT at its `-listen_timeout`, so jobs reading RTP set a short one.
   */
  async close(graceMs = 3000): Promise<FfmpegExit> {
    if (!this.#closed) {
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.#exited;
  }
}
