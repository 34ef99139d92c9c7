import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/chromium.ts';
import {
  type EmbeddedServer,
  eventually,
  openPeer,
  servePeerPage,
  startEmbedded,
} from '../harness/embedded.ts';
import type { PageServer } from '../harness/pageServer.ts';

type Received = {
  owner: string;
  streamId: string;
  kind: string;
  framesDecoded: number;
  width: number;
  height: number;
  audioEnergy: number;
  codec: string;
};
const received = (page: Page): Promise<Received[]> => page.evaluate(() => window.peer.received());
const join = (
  page: Page,
  url: string,
  token: string,
  options: { codec?: string; simulcast?: boolean } = {},
) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const) as Promise<{
    id: string;
    published: { audio: string; video: string };
  }>;

/** Every other participant's video decodes at the right size and their audio carries energy. */
function hearsAndSees(streams: Received[], others: string[]): boolean {
  return others.every(
    (owner) =>
      streams.some(
        (s) =>
          s.owner === owner &&
          s.kind === 'video' &&
          s.framesDecoded > 5 &&
          s.width === 640 &&
          s.height === 480,
      ) && streams.some((s) => s.owner === owner && s.kind === 'audio' && s.audioEnergy > 0),
  );
}

describe('conference on the embedded server (three Chromium participants)', () => {
  let server: EmbeddedServer;
  let pages: PageServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, pages, browser] = await Promise.all([startEmbedded(), servePeerPage(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await server?.close();
  });

  it('three participants each publish audio and video and receive the other two; a late joiner gets existing streams', async () => {
    const [a, b] = await Promise.all([openPeer(browser, pages), openPeer(browser, pages)]);
    const ida = await join(a, server.url, await server.token('room-3', 'ana'));
    const idb = await join(b, server.url, await server.token('room-3', 'ben'));
    // The third arrives after the others publish: its streams come with login.
    const c = await openPeer(browser, pages);
    const idc = await join(c, server.url, await server.token('room-3', 'cy'));

    for (const [page, others] of [
      [a, [idb.id, idc.id]],
      [b, [ida.id, idc.id]],
      [c, [ida.id, idb.id]],
    ] as const) {
      const streams = await eventually(
        () => received(page),
        (s) => hearsAndSees(s, [...others]),
      );
      const view = await page.evaluate(() => ({
        streams: window.peer.streams(),
        events: window.peer.events(),
      }));
      expect(hearsAndSees(streams, [...others]), JSON.stringify({ others, streams, view })).toBe(true);
    }
    expect(await c.evaluate(() => window.peer.participants())).toEqual(['ana', 'ben']);

    // Unpublish removes the stream for everyone; leaving removes the participant.
    await a.evaluate(() => window.peer.unpublish('video'));
    for (const page of [b, c]) {
      const events = await eventually(
        () => page.evaluate(() => window.peer.events()),
        (e) => e.includes(`removed:${ida.published.video}`),
      );
      expect(events).toContain(`removed:${ida.published.video}`);
    }
    await b.evaluate(() => window.peer.leave());
    for (const page of [a, c]) {
      const users = await eventually(
        () => page.evaluate(() => window.peer.participants()),
        (u) => !u.includes('ben'),
      );
      expect(users).not.toContain('ben');
    }

    // A closed tab is noticed: its participant and streams disappear for the others.
    await c.context().close();
    const events = await eventually(
      () => a.evaluate(() => window.peer.events()),
      (e) => e.includes('leave:cy') && e.includes(`removed:${idc.published.audio}`),
    );
    expect(events).toEqual(
      expect.arrayContaining([
        'leave:cy',
        `removed:${idc.published.audio}`,
        `removed:${idc.published.video}`,
      ]),
    );
    const listed = await fetch(`${server.url}/v1/rooms/room-3/participants`, {
      headers: {
        authorization: await (await import('../harness/controlPlane.ts')).bearer(
          server.system.superService.id,
          server.system.superService.key,
        ),
      },
    }).then((r) => r.json());
    expect(listed.map((p: { user: string }) => p.user)).toEqual(['ana']);
    await a.context().close();
  });
});
