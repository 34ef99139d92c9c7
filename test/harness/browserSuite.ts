import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchChromium } from './chromium.ts';
import { eventually, servePeerPage } from './embedded.ts';
import type { PageServer } from './pageServer.ts';

export interface BrowserSuite<T> {
  /** The system under test (embedded server or local cluster). */
  target: T;
  /** The SDK test page (test/e2e/pages/sdkPeer.ts). */
  pages: PageServer;
  browser: Browser;
}

/** Starts the system, the test page and Chromium for a describe block, and stops them after. */
export function browserSuite<T extends { close(): Promise<void> }>(start: () => Promise<T>): BrowserSuite<T> {
  const suite = {} as BrowserSuite<T>;
  beforeAll(async () => {
    [suite.target, suite.pages, suite.browser] = await Promise.all([
      start(),
      servePeerPage(),
      launchChromium(),
    ]);
  }, 90_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.pages?.close();
    await suite.target?.close();
  });
  return suite;
}

export type Received = Awaited<ReturnType<Window['peer']['received']>>;

/**
 * A decoded frame size a user would accept from a 640x480 camera: Chromium scales its encoder
 * down under CPU load (a busy 2-core machine), so any size from a quarter up is fine.
 */
export const saneVideoSize = (s: { width: number; height: number }) =>
  s.width >= 160 && s.width <= 640 && s.height >= 120 && s.height <= 480;

/** Every other participant's video decodes frames at a sane size and their audio carries energy. */
export function hearsAndSees(streams: Received, others: string[]): boolean {
  return others.every(
    (owner) =>
      streams.some(
        (s) => s.owner === owner && s.kind === 'video' && s.framesDecoded > 5 && saneVideoSize(s),
      ) && streams.some((s) => s.owner === owner && s.kind === 'audio' && s.audioEnergy > 0),
  );
}

/** Asserts that every participant (page, id) hears and sees every other one. */
export async function expectEveryoneHearsAndSees(participants: { page: Page; id: string }[]): Promise<void> {
  for (const { page, id } of participants) {
    const others = participants.filter((p) => p.id !== id).map((p) => p.id);
    const streams = await eventually(
      () => page.evaluate(() => window.peer.received()),
      (s) => hearsAndSees(s, others),
    );
    const view = await page.evaluate(() => ({
      streams: window.peer.streams(),
      events: window.peer.events(),
    }));
    expect(hearsAndSees(streams, others), JSON.stringify({ others, streams, view })).toBe(true);
  }
}

/**
 * Asserts that media is flowing now, not just that it once did: over a short window, every
 * participant decodes more video frames and more audio from every other participant (every
 * other that `receives` names, for participants who chose what to receive).
 */
export async function expectEveryoneReceivesNow(
  participants: { page: Page; id: string }[],
  timeoutMs = 20_000,
  receives: (receiver: string, sender: string) => boolean = () => true,
): Promise<void> {
  const totals = async (page: Page) => {
    const received = await page.evaluate(() => window.peer.received());
    const by = (owner: string, kind: string, pick: (r: Received[number]) => number) =>
      received.filter((r) => r.owner === owner && r.kind === kind).reduce((n, r) => n + pick(r), 0);
    return (owner: string) => ({
      video: by(owner, 'video', (r) => r.framesDecoded),
      audio: by(owner, 'audio', (r) => r.audioEnergy),
    });
  };
  for (const { page, id } of participants) {
    const others = participants.filter((p) => p.id !== id && receives(id, p.id)).map((p) => p.id);
    const flowing = await eventually(
      async () => {
        const before = await totals(page);
        await new Promise((r) => setTimeout(r, 1000));
        const after = await totals(page);
        return others.filter((o) => !(after(o).video > before(o).video && after(o).audio > before(o).audio));
      },
      (stalled) => stalled.length === 0,
      timeoutMs,
    );
    const state = flowing.length
      ? JSON.stringify(
          await page.evaluate(() => ({
            states: window.peer.states(),
            events: window.peer.events(),
            received: window.peer.received(),
          })),
        )
      : '';
    expect(flowing, `participant ${id} receives nothing now from (${state})`).toEqual([]);
  }
}

/** Waits until each page's SDK has rejoined (after a node or worker failure, or a drain). */
export async function expectRejoined(pages: Page[], timeoutMs = 20_000): Promise<void> {
  for (const page of pages) {
    const events = await eventually(
      () => page.evaluate(() => window.peer.events()),
      (e) => e.includes('rejoined'),
      timeoutMs,
    );
    expect(events).toContain('rejoined');
  }
}
