import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Bundles a browser entry with esbuild (ESM, for the page's <script type=module>). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/**
 * Serves fixed routes (path → [content type, body]) on 127.0.0.1, a secure context for
 * getUserMedia, or on `host` (a browser must then be told the origin is secure, see netns.ts).
 */
export function servePages(
  routes: Record<string, [string, string]>,
  host = '127.0.0.1',
): Promise<PageServer> {
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route[0], 'cache-control': 'no-store' }).end(route[1]);
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
