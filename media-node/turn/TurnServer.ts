import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TurnServerConfig } from '../../shared/config/schema.ts';
import { ErrorCodes, MissingDependencyError, TesseraError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

/** Packets and bytes one side of a TURN allocation moved (coturn's rp/rb/sp/sb). */
export interface TurnTraffic {
  receivedPackets: number;
  receivedBytes: number;
  sentPackets: number;
  sentBytes: number;
}

/** One allocation as coturn reports it: the client's side and the peer (relayed) side. */
export interface TurnSession {
  id: string;
  username: string;
  /** Between the client and coturn. */
  client: TurnTraffic;
  /** Between coturn's relay address and the peer (the media node). */
  peer: TurnTraffic;
  closed: boolean;
}

export interface TurnServerOptions extends TurnServerConfig {
  secret: string;
  logger?: Logger;
  /** Defaults to Debian's coturn. */
  binary?: string;
  realm?: string;
}

/** coturn did not come up (bad address, port taken, binary missing). */
export class TurnServerError extends TesseraError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.unexpected, message, details ? { details } : undefined);
  }
}

const run = promisify(execFile);

/** coturn outlives its parent otherwise: whatever is still running goes when this process exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
const USAGE =
  /session (\d+): (peer )?usage: realm=<[^>]*>, username=<([^>]*)>, rp=(\d+), rb=(\d+), sp=(\d+), sb=(\d+)/;
const CLOSED = /session (\d+): closed \(2nd stage\)/;

/**
 * Owns exactly one coturn child process (`turnserver`): TURN over UDP and TCP on `port`, over TLS
 * on `tlsPort` with a self-signed certificate made at start, credentials in coturn's REST-API
 * scheme (shared secret, see shared/turn/credentials.ts), relays from a bounded port range.
 * Browsers verify a TURN server's TLS certificate: `turns:` URLs need TURN_TLS_CERT_FILE.
 * The secret goes into a config file only this user can read, never onto the command line
 * (visible in `ps`) or into a log. coturn logs to stdout, verbosely, so that its per-session
 * usage lines can be counted: `sessions` holds what it relayed, summed over its reports.
 */
export class TurnServer {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<void>;
  readonly #sessions = new Map<string, TurnSession>();
  readonly #logger: Logger | undefined;
  #tail = '';
  #closed = false;

  private constructor(child: ChildProcess, dir: string, logger: Logger | undefined) {
    this.#child = child;
    this.#dir = dir;
    this.#logger = logger;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
  }

  /** Starts coturn and resolves once it listens on UDP, TCP and TLS. */
  static async start(o: TurnServerOptions): Promise<TurnServer> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-turn-'));
    try {
      const { cert, key } = o.tls
        ? { cert: o.tls.certFile, key: o.tls.keyFile }
        : await selfSignedCertificate(dir);
      const conf = join(dir, 'turnserver.conf');
      writeFileSync(conf, turnserverConf(o, { cert, key, dir }), { mode: 0o600 });
      const child = spawn(o.binary ?? 'turnserver', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      child.once('exit', () => running.delete(child));
      const server = new TurnServer(child, dir, o.logger);
      await server.#ready(o);
      return server;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  #ready(o: TurnServerOptions): Promise<void> {
    const listening = (proto: string, port: number) =>
      new RegExp(`${proto} listener opened on ?: ${o.listenIp.replace(/\./g, '\\.')}:${port}\\b`);
    let awaited = [listening('UDP', o.port), listening('TLS/TCP', o.port), listening('TLS/TCP', o.tlsPort)];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail('not listening within 10 s'), 10_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        void this.close();
        reject(new TurnServerError(`TURN server: ${why}`, { output: this.#tail.slice(-2000) }));
      };
      const onLine = (line: string) => {
        this.#tail = `${this.#tail}${line}\n`.slice(-16_384);
        this.#count(line);
        if (awaited.length === 0) return;
        awaited = awaited.filter((re) => !re.test(line));
        if (awaited.length === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      lines(this.#child.stdout!, onLine);
      lines(this.#child.stderr!, onLine);
      this.#child.once('error', (e) => fail(`could not start turnserver (${e.message}); install coturn`));
      this.#child.once('exit', (code, signal) => {
        if (!this.#closed) {
          this.#logger?.error('TURN server exited', { code, signal });
          fail(`exited (${code ?? signal})`);
        }
      });
    });
  }

  /** Adds a usage report to its session (coturn reports the traffic since its last report). */
  #count(line: string): void {
    const usage = USAGE.exec(line);
    if (usage) {
      const [, id, peer, username, rp, rb, sp, sb] = usage;
      const session = this.#session(id!, username!);
      const side = peer ? session.peer : session.client;
      side.receivedPackets += Number(rp);
      side.receivedBytes += Number(rb);
      side.sentPackets += Number(sp);
      side.sentBytes += Number(sb);
      return;
    }
    const closed = CLOSED.exec(line);
    if (closed) {
      const session = this.#sessions.get(closed[1]!);
      if (session) session.closed = true;
    }
  }

  #session(id: string, username: string): TurnSession {
    let session = this.#sessions.get(id);
    if (!session) {
      const zero = () => ({ receivedPackets: 0, receivedBytes: 0, sentPackets: 0, sentBytes: 0 });
      session = { id, username, client: zero(), peer: zero(), closed: false };
      this.#sessions.set(id, session);
    }
    return session;
  }

  /**
   * Allocations coturn has reported usage for (every 4096 packets, and when one ends), optionally
   * only those of one participant (usernames are `<expiry>:<participant id>`).
   */
  sessions(participantId?: string): TurnSession[] {
    const all = [...this.#sessions.values()];
    return participantId === undefined ? all : all.filter((s) => s.username.endsWith(`:${participantId}`));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The last part of coturn's output, for error messages and tests. */
  get outputTail(): string {
    return this.#tail;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops coturn (SIGTERM, then SIGKILL after the grace period) and removes its files. Idempotent. */
  async close(graceMs = 3000): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#child.exitCode === null && this.#child.signalCode === null) {
        this.#child.kill('SIGTERM');
        const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
        await this.#exited;
        clearTimeout(timer);
      }
      rmSync(this.#dir, { recursive: true, force: true });
    }
    await this.#exited;
  }
}

/** Clients reach TURN by address here, so no name to verify: a throwaway self-signed pair. */
async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // biome-ignore format: openssl's arguments read best in pairs
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '30', '-subj', '/CN=tessera-turn', '-keyout', key, '-out', cert,
  ]).catch((e: Error) => {
    throw new MissingDependencyError('openssl could not make the TURN certificate', { error: e.message });
  });
  return { cert, key };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
}

/** coturn's configuration: everything in one file, no CLI, no database outside `dir`. */
function turnserverConf(o: TurnServerOptions, files: { cert: string; key: string; dir: string }): string {
  return [
    `listening-ip=${o.listenIp}`,
    `relay-ip=${o.listenIp}`,
    `listening-port=${o.port}`,
    `tls-listening-port=${o.tlsPort}`,
    `min-port=${o.relayPorts.min}`,
    `max-port=${o.relayPorts.max}`,
    'use-auth-secret',
    `static-auth-secret=${o.secret}`,
    `realm=${o.realm ?? 'tessera'}`,
    'fingerprint',
    'no-cli',
    // Plain and TLS TURN over TCP and UDP only: no DTLS listener, no TLS before 1.2.
    'no-dtls',
    'no-tlsv1',
    'no-tlsv1_1',
    `cert=${files.cert}`,
    `pkey=${files.key}`,
    'no-multicast-peers',
    ...(o.allowLoopbackPeers ? ['allow-loopback-peers'] : []),
    'no-software-attribute',
    'log-file=stdout',
    'simple-log',
    // Verbose: usage lines (relayed packets and bytes per allocation) are only logged so.
    'verbose',
    `pidfile=${join(files.dir, 'turnserver.pid')}`,
    `userdb=${join(files.dir, 'turndb')}`,
    '',
  ].join('\n');
}
