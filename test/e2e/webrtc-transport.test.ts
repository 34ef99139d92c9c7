import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerMediaCodecs } from '../../media-node/codecs/routerCodecs.ts';
import { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../shared/logger.ts';
import { saneVideoSize } from '../harness/browserSuite.ts';
import { launchChromium } from '../harness/chromium.ts';
import { bundleForBrowser, type PageServer, servePages } from '../harness/pageServer.ts';

/**
 * ICE + DTLS with a real browser. Built against Debian's OpenSSL (kTLS on), an unpatched
 * worker dies with SIGSEGV on the first DTLS handshake; this test is what notices.
 */
describe('WebRtcTransport with headless Chromium (mediasoup-client)', () => {
  let pool: WorkerPool;
  let router: types.Router;
  let pages: PageServer;
  let browser: Browser;
  const transports = new Map<string, types.WebRtcTransport>();
  const producers = new Map<string, types.Producer>();
  const consumers = new Map<string, types.Consumer>();
  let workerDied = false;

  // The test's own minimal signaling; the product's protocol arrives with the real-time path.
  // biome-ignore lint/suspicious/noExplicitAny: payloads come from the page, one shape per method
  const handlers: Record<string, (data: any) => Promise<unknown> | unknown> = {
    routerRtpCapabilities: () => router.rtpCapabilities,
    createTransport: async () => {
      const t = await router.createWebRtcTransport({
        listenInfos: [
          { protocol: 'udp', ip: '127.0.0.1' },
          { protocol: 'tcp', ip: '127.0.0.1' },
        ],
        preferUdp: true,
      });
      transports.set(t.id, t);
      return {
        id: t.id,
        iceParameters: t.iceParameters,
        iceCandidates: t.iceCandidates,
        dtlsParameters: t.dtlsParameters,
      };
    },
    connect: async ({ transportId, dtlsParameters }) => {
      await transports.get(transportId)!.connect({ dtlsParameters });
    },
    produce: async ({ transportId, kind, rtpParameters }) => {
      const producer = await transports.get(transportId)!.produce({ kind, rtpParameters });
      producers.set(producer.id, producer);
      return { id: producer.id };
    },
    consume: async ({ transportId, producerId, rtpCapabilities }) => {
      expect(router.canConsume({ producerId, rtpCapabilities })).toBe(true);
      const consumer = await transports
        .get(transportId)!
        .consume({ producerId, rtpCapabilities, paused: true });
      consumers.set(consumer.id, consumer);
      return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
    },
    resume: async ({ consumerId }) => {
      await consumers.get(consumerId)!.resume();
    },
  };

  beforeAll(async () => {
    pool = await WorkerPool.create({ size: 1, logger: createLogger({ level: 'warn' }), respawn: false });
    pool.on('workerdied', () => {
      workerDied = true;
    });
    router = await pool.workers[0]!.createRouter({ mediaCodecs: routerMediaCodecs });
    const bundle = await bundleForBrowser(fileURLToPath(new URL('./pages/sfuPeer.ts', import.meta.url)));
    pages = await servePages({
      '/': ['text/html', '<!doctype html><title>peer</title><script type="module" src="/peer.js"></script>'],
      '/peer.js': ['text/javascript', bundle],
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    pool?.close();
  });

  async function openPeer() {
    const page = await (await browser.newContext()).newPage();
    await page.exposeFunction('signal', async (method: string, data: unknown) => handlers[method]!(data));
    await page.goto(pages.url);
    await page.waitForFunction(() => typeof window.publish === 'function');
    return page;
  }

  it('a page sends its fake camera and a second page receives and decodes it', async () => {
    const publisher = await openPeer();
    const producerId = await publisher.evaluate(() => window.publish());
    const subscriber = await openPeer();
    const received = await subscriber.evaluate((id) => window.subscribe(id), producerId);

    expect(workerDied).toBe(false);
    expect(received.framesDecoded).toBeGreaterThan(0);
    expect(saneVideoSize(received), `${received.width}x${received.height}`).toBe(true);
    for (const transport of transports.values()) {
      expect(transport.iceState).toMatch(/connected|completed/);
      expect(transport.dtlsState).toBe('connected');
    }
    expect(transports.size).toBe(2);
  });
});
