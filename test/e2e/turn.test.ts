import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryoneHearsAndSees, expectEveryoneReceivesNow } from '../harness/browserSuite.ts';
import { launchChromium } from '../harness/chromium.ts';
import {
  type EmbeddedServer,
  eventually,
  openPeer,
  servePeerPage,
  startEmbedded,
} from '../harness/embedded.ts';
import { createNetNamespace, type NetNamespace, secureOriginFlags } from '../harness/netns.ts';
import type { PageServer } from '../harness/pageServer.ts';

type JoinOptions = { iceTransportPolicy?: 'all' | 'relay' };
const join = (page: Page, url: string, token: string, options: JoinOptions = {}) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const);

describe('TURN and ICE-TCP: a participant whose UDP is blocked (network namespace)', () => {
  let ns: NetNamespace;
  let server: EmbeddedServer;
  let pages: PageServer;
  let hostBrowser: Browser;
  let nsBrowser: Browser;
  let outside: { page: Page; id: string }[];

  beforeAll(async () => {
    ns = await createNetNamespace();
    // Everything listens on the veth's host side: reachable from the namespace and from here.
    [server, pages] = await Promise.all([
      startEmbedded({
        HOST: ns.hostAddress,
        RTC_LISTEN_IP: ns.hostAddress,
        TURN_SECRET: randomBytes(32).toString('base64url'),
        TURN_LISTEN_IP: ns.hostAddress,
      }),
      servePeerPage(ns.hostAddress),
    ]);
    [hostBrowser, nsBrowser] = await Promise.all([
      launchChromium(secureOriginFlags([pages.url])),
      // The TURN server's TLS certificate is self-signed (made at start): this browser accepts it
      // as a client of a deployment with a real certificate (TURN_TLS_CERT_FILE) would.
      ns.launchChromium({ secureOrigins: [pages.url], args: ['--ignore-certificate-errors'] }),
    ]);
    // Two participants outside the namespace, joined once; each test adds one from inside.
    const [a, b] = await Promise.all([openPeer(hostBrowser, pages), openPeer(hostBrowser, pages)]);
    outside = [];
    for (const [page, user] of [
      [a, 'ana'],
      [b, 'ben'],
    ] as const)
      outside.push({ page, id: (await join(page, server.url, await server.token('turn', user))).id });
  }, 90_000);
  afterEach(() => ns.unblock());
  afterAll(async () => {
    await nsBrowser?.close();
    await hostBrowser?.close();
    await pages?.close();
    await server?.close();
    await ns?.close();
  });

  /** Joins a participant inside the namespace; everyone must hear and see everyone. */
  async function joinFromInside(user: string, options: JoinOptions = {}) {
    const page = await openPeer(nsBrowser, pages);
    const { id } = await join(page, server.url, await server.token('turn', user), options);
    await expectEveryoneHearsAndSees([...outside, { page, id }]);
    const path = await page.evaluate(() => window.peer.receivePath());
    return { page, id, path };
  }

  it('with UDP blocked it joins over TCP (ICE-TCP or TURN/TCP) and everyone decodes everyone', async () => {
    await ns.block({ udp: true });
    const { page, path } = await joinFromInside('cy');
    // Either mediasoup's own TCP candidate or a relay reached over TCP/TLS: never UDP end to end.
    console.log('UDP blocked: receive path', path);
    const overTcp = path.localProtocol === 'tcp' || ['tcp', 'tls'].includes(path.relayProtocol);
    expect(overTcp, JSON.stringify(path)).toBe(true);
    expect(path.bytesReceived).toBeGreaterThan(0);
    await page.evaluate(() => window.peer.leave());
  });

  it("with iceTransportPolicy 'relay' (and UDP blocked) media flows through coturn over TCP, counted on coturn's side", async () => {
    await ns.block({ udp: true });
    const { page, id, path } = await joinFromInside('dee', { iceTransportPolicy: 'relay' });
    // Chromium may reach coturn's TCP or TLS listener first: both are TCP underneath.
    expect(path.localType, JSON.stringify(path)).toBe('relay');
    expect(['tcp', 'tls'], JSON.stringify(path)).toContain(path.relayProtocol);
    // A few more seconds of media both ways, then the count.
    await expectEveryoneReceivesNow([...outside, { page, id }]);
    // Closing the transports ends the allocations; coturn then reports what each relayed.
    await page.evaluate(() => window.peer.leave());
    await page.context().close();
    const turn = server.system.turnServer!;
    const sessions = await eventually(
      async () => turn.sessions(id),
      (s) => s.filter((x) => x.closed).length >= 2,
      10_000,
    );
    const total = (pick: (s: (typeof sessions)[number]) => number) =>
      sessions.reduce((n, s) => n + pick(s), 0);
    const relayed = {
      sessions: sessions.length,
      // To the media node: what this participant published; from it: what it received.
      toMediaNode: total((s) => s.peer.sentBytes),
      fromMediaNode: total((s) => s.peer.receivedBytes),
      fromClient: total((s) => s.client.receivedBytes),
      toClient: total((s) => s.client.sentBytes),
    };
    console.log('coturn relayed for the relay-only participant', relayed);
    // A few seconds of 640x480 video and audio each way: well over 50 KB.
    expect(relayed.toMediaNode, JSON.stringify(relayed)).toBeGreaterThan(50_000);
    expect(relayed.fromMediaNode, JSON.stringify(relayed)).toBeGreaterThan(50_000);
    expect(relayed.fromClient).toBeGreaterThanOrEqual(relayed.toMediaNode);
  });

  it("with UDP and TURN's TCP port blocked it relays over TURN/TLS", async () => {
    await ns.block({ udp: true, tcpPorts: [3478] });
    const { page, path } = await joinFromInside('eve', { iceTransportPolicy: 'relay' });
    expect(path, JSON.stringify(path)).toMatchObject({ localType: 'relay', relayProtocol: 'tls' });
    await page.evaluate(() => window.peer.leave());
  });
});
