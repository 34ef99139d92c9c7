import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/** node-media-server (npm) on 127.0.0.1, on the ports given or free ones: a real RTMP server streams are pushed to and pulled from. */
export async function startRtmpServer(ports?: { rtmpPort: number; httpPort: number }): Promise<{
  url: (path: string) => string;
  ports: { rtmpPort: number; httpPort: number };
  close(): Promise<void>;
}> {
  const { rtmpPort, httpPort } = ports ?? { rtmpPort: await freePort(), httpPort: await freePort() };
  const dir = mkdtempSync(join(tmpdir(), 'tessera-nms-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(import.meta.dirname, 'peers', 'nms.cjs'), String(rtmpPort), String(httpPort), dir],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node-media-server did not start')), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('NMS_READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`node-media-server exited (${code})`)));
  });
  return {
    url: (path) => `rtmp://127.0.0.1:${rtmpPort}/${path}`,
    /** To start it again where it was (a server that went away and came back). */
    ports: { rtmpPort, httpPort },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
