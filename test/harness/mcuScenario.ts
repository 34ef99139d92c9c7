// The MCU acceptance scenarios' shared parts (mcu.test.ts, mcu-video.test.ts, mcu-cluster.test.ts): a room
// with one view, four synthetic publishers and a viewer of the mixed stream, REST on it, and
// sampling over its current layout. The instruments are in test/e2e/pages/instruments.ts.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Rect } from '../e2e/pages/instruments.ts';
import type { BrowserSuite } from './browserSuite.ts';
import { bearer } from './controlPlane.ts';
import { type EmbeddedServer, eventually, openPeer } from './embedded.ts';
import { followLive, type Joined, joinSynthetic, PARTICIPANTS, pageNow, videoReport } from './instruments.ts';

export const MIXED = 'mixed-common';

export type LayoutEntry = {
  stream?: string;
  region: {
    id: string;
    area?: { left: string | number; top: string | number; width: string | number; height: string | number };
  };
};
export type MixedStream = {
  id: string;
  type: string;
  info: { label?: string; layout?: LayoutEntry[]; activeInput?: string };
};

export const fraction = (v: string | number) => {
  if (typeof v === 'number') return v;
  const [n, d] = v.includes('/') ? v.split('/').map(Number) : [Number(v), 1];
  return n! / d!;
};

/** The layout's regions as sampling rectangles, with the stream each one shows. */
export function layoutRegions(stream: MixedStream): { streams: (string | undefined)[]; rects: Rect[] } {
  const layout = stream.info.layout ?? [];
  return {
    streams: layout.map((e) => e.stream),
    rects: layout.map((e) => {
      const a = e.region.area;
      if (!a) throw new Error(`region ${e.region.id} of ${stream.id} has no area`);
      return {
        left: fraction(a.left),
        top: fraction(a.top),
        width: fraction(a.width),
        height: fraction(a.height),
      };
    }),
  };
}

/** Where REST calls go: a base URL and a bearer for the super service (embedded server or local cluster). */
export type RestTarget = { url: string; superAuth(): Promise<string> };

export const restTarget = (server: EmbeddedServer): RestTarget => ({
  url: server.url,
  superAuth: () => bearer(server.system.superService.id, server.system.superService.key),
});

export async function rest(
  server: EmbeddedServer | RestTarget,
  method: string,
  path: string,
  body?: unknown,
) {
  const target = 'superAuth' in server ? server : restTarget(server);
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: await target.superAuth(),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as unknown) };
}

/** Creates a room with one view (the harness's token() then reuses it: 409 is accepted there). */
export async function createRoom(server: EmbeddedServer, room: string, view: unknown) {
  const created = await rest(server, 'POST', '/v1/rooms', { id: room, name: room, views: [view] });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
}

export const fluidView = { label: 'common', video: { layout: { templates: { base: 'fluid' } } } };

/**
 * Samples the mixed stream (its REST record, for the layout) on a page already sampling it for
 * `ms`; the report with the layout, the colour each region should show and the one it shows.
 */
export async function sampleMixed(page: Page, stream: MixedStream, colourOf: Map<string, string>, ms = 4000) {
  const layout = layoutRegions(stream);
  await followLive(page, MIXED);
  await page.evaluate(([m, r]) => window.instruments.setRegions(m, r), [MIXED, layout.rects] as const);
  const since = await pageNow(page);
  await new Promise((r) => setTimeout(r, ms));
  const report = await videoReport(page, MIXED, since);
  const expected = layout.streams.map((s) => (s ? (colourOf.get(s) ?? `unknown stream ${s}`) : null));
  return { layout, report, expected, seen: report.regions.map((r) => r.colourName) };
}

/** The scenario helpers of one suite: its peers (closed with `closePeers` after each test), REST and sampling. */
export function mcuScenario(suite: BrowserSuite<EmbeddedServer>) {
  /** Each scenario's peers leave when it ends: five Chromium peers at a time, not all scenarios' at once. */
  const opened: Page[] = [];
  const peer = async () => {
    const page = await openPeer(suite.browser, suite.pages);
    opened.push(page);
    return page;
  };
  const closePeers = () =>
    Promise.all(
      opened.splice(0).map((p) =>
        p
          .context()
          .close()
          .catch(() => {}),
      ),
    );

  const mixed = async (room: string) =>
    (await rest(suite.target, 'GET', `/v1/rooms/${room}/streams/${MIXED}`)).body as MixedStream;

  /**
   * Four synthetic publishers (receiving nothing) and a viewer receiving the mixed stream only;
   * colour names by stream id.
   */
  async function conference(room: string, view: unknown = fluidView, viewerPublishes = false) {
    await createRoom(suite.target, room, view);
    const four = PARTICIPANTS.slice(0, 4);
    const pages = await Promise.all([...four, 'viewer'].map(() => peer()));
    const publishers: Joined[] = [];
    for (const [i, p] of four.entries())
      publishers.push(
        await joinSynthetic(
          pages[i]!,
          suite.target.url,
          await suite.target.token(room, p.name),
          { colour: p.colour, toneHz: p.toneHz },
          { autoSubscribe: false },
        ),
      );
    const viewerPage = pages[4]!;
    const own = PARTICIPANTS[4]!;
    const viewer = await joinSynthetic(
      viewerPage,
      suite.target.url,
      await suite.target.token(room, 'viewer'),
      viewerPublishes ? { colour: own.colour, toneHz: own.toneHz } : undefined,
      { autoSubscribe: 'mixed' },
    );
    const colourOf = new Map<string, string>(publishers.map((p, i) => [p.published.stream!, four[i]!.name]));
    if (viewerPublishes) colourOf.set(viewer.published.stream!, own.name);
    const subscribed = await eventually(
      () => viewerPage.evaluate((m) => window.instruments.has(m, 'video'), MIXED),
      (ok) => ok,
      30_000,
    );
    expect(subscribed, 'the viewer receives the mixed stream').toBe(true);
    return { pages, publishers, viewer, viewerPage, colourOf };
  }

  const sampleLayout = async (page: Page, room: string, colourOf: Map<string, string>, ms = 4000) =>
    sampleMixed(page, await mixed(room), colourOf, ms);

  return { peer, closePeers, mixed, conference, sampleLayout };
}
