import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  mpd: 'application/dash+xml',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
};

/**
 * An HTTP origin on 127.0.0.1 as HLS/DASH packagers push to (PUT or POST a file, DELETE an old
 * segment) and players read from (GET, CORS open): what a CDN origin does, in memory.
 */
export async function startHttpOrigin() {
  const files = new Map<string, Buffer>();
  const uploads: { method: string; path: string }[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'PUT' || req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        files.set(path, Buffer.concat(chunks));
        uploads.push({ method: req.method!, path });
        res.writeHead(201).end();
      });
      return;
    }
    if (req.method === 'DELETE') {
      files.delete(path);
      res.writeHead(204).end();
      return;
    }
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.split('.').pop() ?? ''] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}/${path}`,
    files,
    uploads,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
