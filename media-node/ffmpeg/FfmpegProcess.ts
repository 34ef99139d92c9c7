import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
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
  /** `pipe`: ffmpeg reads from `stdin` (`-i pipe:0`, e.g. raw frames). Default `ignore`. */
  stdin?: 'pipe' | 'ignore';
  /**
   * `progress` (default): stdout carries `-progress pipe:1` blocks, parsed into `progress` events.
   * `raw`: stdout carries media (`pipe:1`, e.g. raw frames), handed on as `data` chunks.
   */
  stdout?: 'progress' | 'raw';
  /**
   * ffmpeg writes its media to this Unix socket instead of stdout (the caller's arguments end in
   * `-listen 1 unix:<path>`), read into one reused buffer and handed on as `data` chunks that are
   * only valid during the event. For tens of MB/s of raw frames: each stdout read allocates a
   * fresh 64 KiB buffer, and at a 2×2 mix's 40 MB/s that external memory kept V8 in major GCs
   * (a quarter of the compositor's CPU, perf).
   */
  rawSocket?: string;
}

/** One block of `-progress pipe:1` output: ffmpeg's counters, `frame` being frames written so far. */
export interface FfmpegProgress {
  frame: number;
  fields: Record<string, string>;
}

type Events = { exit: [FfmpegExit]; stderr: [string]; progress: [FfmpegProgress]; data: [Buffer] };

/** One read from a raw socket at most: a 640x360 frame in two reads. */
const RAW_READ_BYTES = 256 * 1024;
/** How often the raw socket is tried until ffmpeg listens (after probing its input). */
const RAW_CONNECT_RETRY_MS = 20;

/**
 * glibc malloc settings for every ffmpeg: large buffers stay in the heap and the heap is not
 * trimmed. ffmpeg allocates a fresh packet per raw frame (`-f rawvideo -i pipe:0`: 1.4 MB per
 * 720p canvas; a decoder's rawvideo output: 0.35 MB per 640x360 region); with glibc's defaults
 * those pages went back to the kernel after each frame and were faulted in again on the next
 * read, and page faults are dear in a VM: a mixer's encoder spent 7–8 % of a core in the kernel
 * for it, 0.6–0.8 % with these (bench/mcu). The cost is a few MB of resident heap per process.
 */
export const FFMPEG_MALLOC_ENV = {
  // The largest fixed threshold glibc accepts on 64-bit (32 MiB); a fixed one stops its dynamic growth.
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024),
};

/** Linux reports process CPU in clock ticks; 100 per second on every platform Tessera runs. */
const CLOCK_TICKS = 100;

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
  #rawSocket: Socket | undefined;
  #rawRetry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: FfmpegProcessOptions) {
    super();
    this.#stderrTailBytes = options.stderrTailBytes ?? 16_384;
    const stdin = options.stdin ?? 'ignore';
    // -nostdin only turns off ffmpeg's keyboard interaction; `-i pipe:0` still reads stdin.
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', ...options.args];
    // A killed run leaves its socket file behind, and ffmpeg cannot bind over it.
    if (options.rawSocket) rmSync(options.rawSocket, { force: true });
    this.#child = spawn(options.binary ?? ffmpeg().path, args, {
      stdio: [stdin, 'pipe', 'pipe'],
      env: { ...process.env, ...FFMPEG_MALLOC_ENV },
    });
    // A consumer that stops reading (closed pipe) must not crash the node with EPIPE.
    this.#child.stdin?.on('error', () => {});
    if (options.rawSocket) this.#readRawSocket(options.rawSocket);
    else if (options.stdout === 'raw')
      this.#child.stdout?.on('data', (chunk: Buffer) => this.emit('data', chunk));
    else this.#parseProgress();
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-this.#stderrTailBytes);
      this.emit('stderr', chunk);
    });
    this.#exited = new Promise((resolve) => {
      const done = (exit: FfmpegExit) => {
        this.#closed = true;
        // A connected raw socket ends by itself once its last bytes are read; one still trying stops.
        clearTimeout(this.#rawRetry);
        if (this.#rawSocket?.connecting) this.#rawSocket.destroy();
        resolve(exit);
        this.emit('exit', exit);
      };
      this.#child.once('exit', (code, signal) => done({ code, signal }));
      this.#child.once('error', () => done({ code: null, signal: null }));
    });
  }

  /** Connects to ffmpeg's listening socket (retrying until it listens) and reads it into one buffer. */
  #readRawSocket(path: string): void {
    const buffer = Buffer.allocUnsafe(RAW_READ_BYTES);
    const attempt = () => {
      if (this.#closed) return;
      let connected = false;
      const socket = connect({
        path,
        onread: {
          buffer,
          callback: (bytes: number, into: Uint8Array) => {
            this.emit('data', Buffer.from(into.buffer, into.byteOffset, bytes));
            return true;
          },
        },
      });
      this.#rawSocket = socket;
      socket.once('connect', () => {
        connected = true;
      });
      socket.on('error', () => {
        // Not listening yet (no file, or a stale one): again shortly. Once connected, the exit ends it.
        if (connected || this.#closed) return;
        this.#rawRetry = setTimeout(attempt, RAW_CONNECT_RETRY_MS);
        this.#rawRetry.unref();
      });
    };
    attempt();
  }

  #parseProgress(): void {
    // `-progress pipe:1` writes key=value lines, a block ending at `progress=continue|end`.
    let block: Record<string, string> = {};
    let partial = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > 4096) partial = '';
      for (const line of lines) {
        const eq = line.indexOf('=');
        if (eq <= 0) continue;
        const key = line.slice(0, eq).trim();
        block[key] = line.slice(eq + 1).trim();
        if (key === 'progress') {
          this.emit('progress', { frame: Number(block.frame ?? 0) || 0, fields: block });
          block = {};
        }
      }
    });
  }

  /** ffmpeg's stdin (only with `stdin: 'pipe'`): write media, watch `writableLength` for backpressure. */
  get stdin(): Writable | undefined {
    return this.#child.stdin ?? undefined;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * CPU time the process has used so far (user + system, seconds), from /proc/<pid>/stat; 0 once
   * it has exited or where /proc is missing. What capacity reports count for pipelines.
   */
  cpuSeconds(): number {
    if (this.#closed || this.#child.pid === undefined) return 0;
    try {
      const stat = readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at state, field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return 0;
    }
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
