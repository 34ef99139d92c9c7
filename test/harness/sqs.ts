import { Server } from 'node:net';
import { freePort } from './ports.ts';

export interface SqsService {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * The fauxqs SQS emulator, in process. fauxqs always listens on 0.0.0.0; servers here bind
 * to loopback only, so its listen call is pointed at 127.0.0.1 while it starts.
 */
export async function startSqs(): Promise<SqsService> {
  const port = await freePort();
  const { startFauxqs } = await import('fauxqs');
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const first = args[0];
    if (first && typeof first === 'object' && (first as { host?: string }).host === '0.0.0.0') {
      args[0] = { ...first, host: '127.0.0.1' };
    }
    return (listen as (...a: unknown[]) => Server).apply(this, args);
  } as typeof listen;
  try {
    const server = await startFauxqs({ port, logger: false });
    return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
  } finally {
    Server.prototype.listen = listen;
  }
}
