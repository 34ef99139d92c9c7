import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { waitForPort } from './ports.ts';

const running = new Set<ServiceProcess>();
// A crashed or interrupted test run must not leave servers behind.
process.once('exit', () => {
  for (const service of running) service.kill('SIGKILL');
});

/**
 * A test service (redis-server, DynamoDB Local) run as a child process: started on a
 * loopback port, ready when the port answers, always stopped.
 */
export class ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #output = '';

  private constructor(name: string, port: number, child: ChildProcess) {
    this.name = name;
    this.port = port;
    this.#child = child;
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    running.add(this);
  }

  static async start(
    name: string,
    port: number,
    command: string,
    args: string[],
    options: SpawnOptions = {},
  ): Promise<ServiceProcess> {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const service = new ServiceProcess(name, port, child);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`${name} failed to start: ${e.message}`)));
      child.once('exit', (code) =>
        reject(new Error(`${name} exited (${code}) before listening:\n${service.#output}`)),
      );
    });
    try {
      await Promise.race([waitForPort(port), failed]);
    } catch (error) {
      await service.stop();
      throw error;
    }
    failed.catch(() => {}); // later exits are reported by stop(), not as unhandled rejections
    return service;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  async stop(): Promise<void> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
    running.delete(this);
  }
}
