import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../functions/app.ts';
import { composeEmbedded, type EmbeddedSystem } from '../../functions/composeEmbedded.ts';
import { serveNode } from '../../functions/http/serveNode.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { bearer, type RoomSetup, roomBody } from './controlPlane.ts';
import { bundleForBrowser, type PageServer, servePages } from './pageServer.ts';

export interface EmbeddedServer {
  url: string;
  system: EmbeddedSystem;
  /** Every log line (JSON) at warn level and above. */
  logs: string[];
  /**
   * A join token for a new participant of the room (created on first use). Rooms are created
   * with `views: []`: OWT's default view would start a mixer (ffmpeg) on every publish, too
   * costly for tests that do not mix; a test that mixes passes its `views`.
   */
  token(room: string, user: string, role?: string, setup?: RoomSetup): Promise<string>;
  close(): Promise<void>;
}

/** The embedded server in this process: real worker pool, gateway and signaling, memory state. */
export async function startEmbedded(env: Record<string, string> = {}): Promise<EmbeddedServer> {
  const config = loadConfig({
    PORT: '1',
    MEDIA_WORKERS: '1',
    LOG_LEVEL: 'warn',
    ROOM_EMPTY_GRACE_SECONDS: '1',
    ...env,
  });
  const logs: string[] = [];
  const system = await composeEmbedded(
    config,
    createLogger({ level: 'warn', write: (line) => logs.push(line) }),
  );
  const server = await serveNode(createApp(system.deps), config.http.host, 0);
  system.gateway.attach(server.server);
  const auth = () => bearer(system.superService.id, system.superService.key);
  const rooms = new Set<string>();
  return {
    url: server.url,
    system,
    logs,
    async token(room, user, role = 'presenter', setup = {}) {
      if (!rooms.has(room)) {
        const created = await fetch(`${server.url}/v1/rooms`, {
          method: 'POST',
          headers: { authorization: await auth(), 'content-type': 'application/json' },
          body: JSON.stringify(roomBody(room, setup)),
        });
        if (created.status !== 201 && created.status !== 409) throw new Error(`room: ${created.status}`);
        rooms.add(room);
      }
      const res = await fetch(`${server.url}/v1/rooms/${room}/tokens`, {
        method: 'POST',
        headers: { authorization: await auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ user, role }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await server.close();
      await system.close();
    },
  };
}

/** Serves the SDK test page (test/e2e/pages/sdkPeer.ts, bundled), on 127.0.0.1 unless `host` is given. */
export async function servePeerPage(host?: string): Promise<PageServer> {
  const bundle = await bundleForBrowser(fileURLToPath(new URL('../e2e/pages/sdkPeer.ts', import.meta.url)));
  return servePages(
    {
      '/': ['text/html', '<!doctype html><title>peer</title><script type="module" src="/peer.js"></script>'],
      '/peer.js': ['text/javascript', bundle],
    },
    host,
  );
}

/** A participant's page in its own browser context (its own "user"). */
export async function openPeer(browser: Browser, pages: PageServer): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  if (process.env.E2E_CONSOLE) page.on('console', (m) => console.log(`[page] ${m.type()}: ${m.text()}`));
  await page.goto(pages.url);
  await page.waitForFunction(() => 'peer' in window);
  return page;
}

/** Polls a page-side condition until it holds (media takes a moment to start). */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}
