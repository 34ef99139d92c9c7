import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/**
 * gst-rtsp-server (Debian GStreamer) on 127.0.0.1: `/src` is a live H.264 + AAC source to pull
 * over TCP or UDP, `/push` takes what a streaming-out pushes and reports the depayloaders it
 * plugged and the video frames it decoded.
 */
export async function startRtspServer(port?: number): Promise<{
  url: (path: string) => string;
  port: number;
  /** Depayloaders plugged for pushed tracks, e.g. `rtph264depay`, `rtpmp4gdepay`. */
  pushCodecs: string[];
  /** Video frames decoded from pushes so far. */
  pushFrames(): number;
  close(): Promise<void>;
}> {
  const listen = port ?? (await freePort());
  // Debian's python3: GStreamer's introspection bindings (gi) live there.
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    [join(import.meta.dirname, 'peers', 'gst-rtsp-server.py'), String(listen)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pushCodecs: string[] = [];
  let frames = 0;
  let buffered = '';
  child.stderr!.resume();
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gst-rtsp-server did not start')), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.trim().split(' ');
        if (word === 'RTSP_READY') {
          clearTimeout(timer);
          resolve();
        } else if (word === 'PUSH_CODEC' && value) pushCodecs.push(value);
        else if (word === 'PUSH_FRAMES') frames = Number(value);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gst-rtsp-server exited (${code})`));
    });
  });
  await ready;
  return {
    url: (path) => `rtsp://127.0.0.1:${listen}/${path}`,
    port: listen,
    pushCodecs,
    pushFrames: () => frames,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
