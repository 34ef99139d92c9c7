import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamoDbLocalDir } from './dynamodb.ts';
import { freePort } from './ports.ts';
import { ServiceProcess } from './ServiceProcess.ts';

/**
 * A private store for outage tests: it keeps its data on disk, so it can be frozen (SIGSTOP),
 * killed and started again on the same port with nothing lost. Never the suites' shared ones.
 */
export interface RestartableService {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start again on the same port, over the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function restartable(
  name: string,
  start: (port: number, dir: string) => Promise<ServiceProcess>,
): Promise<RestartableService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  let process = await start(port, dir);
  return {
    port,
    freeze: () => process.kill('SIGSTOP'),
    thaw: () => process.kill('SIGCONT'),
    async kill() {
      process.kill('SIGCONT');
      process.kill('SIGKILL');
      await process.stop();
    },
    async restart() {
      process = await start(port, dir);
    },
    async stop() {
      process.kill('SIGCONT');
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * redis-server with an append-only file synced on every write (a SIGKILL loses nothing) and a
 * password, which its URL carries: logs must never show it.
 */
export function startPersistentRedis(password: string): Promise<RestartableService & { url: string }> {
  return restartable('redis', (port, dir) =>
    ServiceProcess.start('redis-server (persistent)', port, 'redis-server', [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
      ...['--requirepass', password],
    ]),
  ).then((service) => Object.assign(service, { url: `redis://:${password}@127.0.0.1:${service.port}` }));
}

/** DynamoDB Local keeping its tables in a file (-dbPath) instead of memory. */
export function startPersistentDynamoDb(): Promise<RestartableService & { endpoint: string }> {
  return restartable('dynamodb', (port, dir) =>
    ServiceProcess.start(
      'DynamoDB Local (on disk)',
      port,
      'java',
      [
        ...['-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar'],
        ...['-dbPath', dir, '-sharedDb', '-disableTelemetry', '-port', String(port)],
      ],
      { cwd: dynamoDbLocalDir() },
    ),
  ).then((service) => Object.assign(service, { endpoint: `http://127.0.0.1:${service.port}` }));
}
