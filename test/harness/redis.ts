import { freePort } from './ports.ts';
import { ServiceProcess } from './ServiceProcess.ts';

export interface RedisService {
  url: string;
  /** The server process (benchmarks report its CPU apart). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Debian's redis-server on a free loopback port, no persistence. */
export async function startRedis(): Promise<RedisService> {
  const port = await freePort();
  const process = await ServiceProcess.start('redis-server', port, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
  ]);
  return { url: `redis://127.0.0.1:${port}`, pid: process.pid, stop: () => process.stop() };
}
