import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FuzzTargetMessage } from './fuzzTarget.ts';

/**
 * The embedded server in a child process (test/harness/fuzzTarget.ts), started with
 * `node --expose-gc --import tsx`: the fuzz test sees it die (a crash is an exit, not a broken
 * test runner) and reads its heap after a forced GC over IPC.
 */
export class FuzzTarget {
  readonly url: string;
  readonly port: number;
  readonly superService: { id: string; key: string };
  readonly #child: ChildProcess;
  readonly #stderr: string[];
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    child: ChildProcess,
    ready: Extract<FuzzTargetMessage, { type: 'ready' }>,
    stderr: string[],
  ) {
    this.#child = child;
    this.#stderr = stderr;
    this.url = ready.url;
    this.port = Number(new URL(ready.url).port);
    this.superService = ready.superService;
    child.once('exit', (code, signal) => {
      this.#exit = { code, signal };
    });
  }

  static async start(): Promise<FuzzTarget> {
    const entry = fileURLToPath(new URL('./fuzzTarget.ts', import.meta.url));
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', entry], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 200) stderr.shift();
    });
    const ready = await new Promise<Extract<FuzzTargetMessage, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fuzz target did not start:\n${stderr.join('')}`)),
        60_000,
      );
      child.on('message', (m: FuzzTargetMessage) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fuzz target exited (${code}) while starting:\n${stderr.join('')}`));
      });
    });
    return new FuzzTarget(child, ready, stderr);
  }

  /** How the process ended, once it has. */
  get exit() {
    return this.#exit;
  }

  /** The last lines the process wrote to stderr (its JSON logs, or a crash's stack). */
  get stderr(): string {
    return this.#stderr.join('').slice(-4000);
  }

  /** heapUsed and rss after two forced GCs in the target. */
  memory(): Promise<{ heapUsed: number; rss: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no memory answer')), 10_000);
      const onMessage = (m: FuzzTargetMessage) => {
        if (m.type !== 'memory') return;
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        resolve({ heapUsed: m.heapUsed, rss: m.rss });
      };
      this.#child.on('message', onMessage);
      this.#child.send({ type: 'memory' });
    });
  }

  async stop(): Promise<void> {
    if (this.#exit) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface RawAnswer {
  /** The status of the first response line; undefined when the connection ended without one. */
  status: number | undefined;
  /** The connection stayed open past the deadline with no complete answer. */
  hung: boolean;
  /** Connecting failed (the server is gone). */
  refused: boolean;
  head: string;
}

/**
 * Writes bytes to a fresh TCP connection and reads the status line of the answer, so the
 * request line, headers and body are exactly what the fuzz generated (no client validation).
 */
export function rawRequest(port: number, bytes: Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let connected = false;
    let settled = false;
    const done = (answer: Omit<RawAnswer, 'head' | 'status'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const head = received.subarray(0, 200).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ ...answer, status: match ? Number(match[1]) : undefined, head });
    };
    const timer = setTimeout(() => done({ hung: received.length === 0, refused: false }), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.write(bytes);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      // The status line and headers are all the fuzz needs; an upgrade stays open otherwise.
      if (received.includes('\r\n\r\n')) done({ hung: false, refused: false });
    });
    socket.on('error', () => done({ hung: false, refused: !connected }));
    socket.on('close', () => done({ hung: false, refused: !connected }));
  });
}
