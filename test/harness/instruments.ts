import type { Page } from 'playwright-core';
import type { AutoSubscribe } from '../../client/TesseraClient.ts';
import type { Rect, Rgb, SyntheticOptions } from '../e2e/pages/instruments.ts';

/** Distinct, saturated colours and tones for synthetic participants (tones not harmonics of each other). */
export const PARTICIPANTS: { name: string; colour: Rgb; toneHz: number }[] = [
  { name: 'red', colour: [220, 40, 40], toneHz: 500 },
  { name: 'blue', colour: [40, 70, 230], toneHz: 1100 },
  { name: 'green', colour: [40, 200, 60], toneHz: 1700 },
  { name: 'yellow', colour: [230, 210, 40], toneHz: 2300 },
  { name: 'magenta', colour: [200, 40, 200], toneHz: 2900 },
];

export const PALETTE: Record<string, Rgb> = Object.fromEntries(PARTICIPANTS.map((p) => [p.name, p.colour]));

export type Joined = { id: string; published: { audio: string; video: string; stream?: string } };

/**
 * Joins a page's SDK, publishing synthetic media (or nothing) and receiving, by default, every
 * stream, mixed ones too. An MCU scenario's publishers receive nothing and its viewers the mixed
 * stream only ('mixed'): five pages each decoding every other publisher starve a 2-core machine.
 */
export const joinSynthetic = (
  page: Page,
  url: string,
  token: string,
  synthetic: SyntheticOptions | undefined,
  options: { codec?: string; autoSubscribe?: AutoSubscribe } = {},
) =>
  page.evaluate(
    ([u, t, s, o]) =>
      window.peer.join(u, t, {
        autoSubscribe: o.autoSubscribe ?? 'all',
        ...(s ? { synthetic: s, ...(o.codec ? { codec: o.codec } : {}) } : { publish: false }),
      }),
    [url, token, synthetic, options] as const,
  ) as Promise<Joined>;

/** Starts sampling a received video track (by stream id, publication id or owner) over regions. */
export const sampleVideo = (page: Page, match: string, regions?: Rect[]) =>
  page.evaluate(([m, r]) => window.instruments.sampleVideo(m, r), [match, regions] as const);

export const videoReport = (page: Page, match: string, since = 0) =>
  page.evaluate(([m, s, p]) => window.instruments.videoReport(m, s, p), [match, since, PALETTE] as const);

export const meterTones = (page: Page, match: string, tones: number[]) =>
  page.evaluate(([m, t]) => window.instruments.meterTones(m, t), [match, tones] as const);

export const toneReport = (page: Page, match: string, since = 0) =>
  page.evaluate(([m, s]) => window.instruments.toneReport(m, s), [match, since] as const);

export const pageNow = (page: Page) => page.evaluate(() => window.instruments.now());

/** Moves `match`'s sampler and meter to its live tracks if a rejoin ended theirs (true if it did). */
export const followLive = (page: Page, match: string) =>
  page.evaluate((m) => window.instruments.follow(m), match);

/** Regions of OWT's fluid template for n inputs (row by row), as fractions. */
export function fluidRegions(n: number): Rect[] {
  const side = Math.ceil(Math.sqrt(n));
  return Array.from({ length: n }, (_, i) => ({
    left: (i % side) / side,
    top: Math.floor(i / side) / side,
    width: 1 / side,
    height: 1 / side,
  }));
}

export const percent = (x: number) => `${Math.round(x * 100)} %`;
