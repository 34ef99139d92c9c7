import { mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumFlags, launchChromium } from '../harness/chromium.ts';
import { bearer } from '../harness/controlPlane.ts';
import { type EmbeddedServer, eventually, startEmbedded } from '../harness/embedded.ts';

/**
 * Tessera Meet, driven through its UI only (clicks, typing, selects), as two people would use
 * it: what each page shows is read from its DOM and its media elements.
 */
const ROOM = 'meet-room';
const SHOTS = 'test-results';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** expect.poll's wait: a page on a busy host (1 s by default). */
const POLL = { timeout: 20_000 };

describe('the meeting app, through its UI', () => {
  let server: EmbeddedServer;
  let browser: Browser;
  let ana: Page;
  let ben: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startEmbedded({ DEMO_JOIN: 'on' }), launchChromium()]);
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The people the server has in the room (REST, as an operator would check for ghosts). */
  async function serverParticipants(): Promise<string[]> {
    const auth = await bearer(server.system.superService.id, server.system.superService.key);
    const res = await fetch(`${server.url}/v1/rooms/${ROOM}/participants`, {
      headers: { authorization: auth },
    });
    return ((await res.json()) as { user: string }[]).map((p) => p.user).sort();
  }

  async function open(b: Browser = browser): Promise<Page> {
    const page = await (await b.newContext({ viewport: DESKTOP })).newPage();
    await page.goto(server.url);
    return page;
  }

  async function joinAs(page: Page, name: string): Promise<void> {
    await page.getByLabel('Room', { exact: true }).fill(ROOM);
    await page.getByLabel('Your name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForSelector(`#status:has-text("in room ${ROOM}")`);
  }

  /** Decoded frames of a video (Playwright's selector syntax); 0 while it has none. */
  async function frames(page: Page, selector: string): Promise<number> {
    const video = await page.$(selector);
    if (!video) return 0;
    return video
      .evaluate((v: HTMLVideoElement) =>
        v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0,
      )
      .catch(() => 0);
  }

  /** Waits for a video to decode and keep decoding (not a frozen or black element). */
  async function expectDecoding(page: Page, selector: string): Promise<void> {
    const first = await eventually(
      () => frames(page, selector),
      (n) => n > 0,
      30_000,
    );
    expect(first, `${selector} decodes`).toBeGreaterThan(0);
    const later = await eventually(
      () => frames(page, selector),
      (n) => n >= first + 5,
      30_000,
    );
    expect(later, `${selector} keeps decoding`).toBeGreaterThanOrEqual(first + 5);
  }

  const participantList = (page: Page) =>
    page.$$eval('#participants li', (lis) => lis.map((li) => li.firstChild?.textContent?.trim() ?? ''));

  /** The remote tile of the participant whose name is shown on it. */
  const tileOf = (name: string) => `#grid figure.person:has(.name:text-is("${name}"))`;

  /** Loudest RMS level of a tile's audio over a window: the fake microphone beeps every second. */
  async function loudness(page: Page, tile: string, ms = 2500): Promise<number> {
    const video = await page.$(`${tile} video`);
    if (!video) return -1;
    return video.evaluate(async (v: HTMLVideoElement, windowMs: number) => {
      const track = (v.srcObject as MediaStream).getAudioTracks()[0];
      if (!track) return -1;
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      let loudest = 0;
      const end = performance.now() + windowMs;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 40));
        analyser.getFloatTimeDomainData(buffer);
        loudest = Math.max(loudest, Math.sqrt(buffer.reduce((a, x) => a + x * x, 0) / buffer.length));
      }
      await ctx.close();
      return loudest;
    }, ms);
  }

  it('pre-join: a camera preview and the devices to choose from', async () => {
    ana = await open();
    await expectDecoding(ana, '#preview video');
    expect(await ana.locator('#camera option').count()).toBeGreaterThan(0);
    expect(await ana.locator('#mic option').count()).toBeGreaterThan(0);
    // Another microphone: the preview restarts with it.
    const mics = await ana
      .locator('#mic option')
      .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    await ana.getByLabel('Microphone', { exact: true }).selectOption(mics.at(-1)!);
    await expectDecoding(ana, '#preview video');
  });

  it('an invalid room name is refused with a clear message, before any join', async () => {
    await ana.getByLabel('Room', { exact: true }).fill('my room!');
    await ana.getByLabel('Your name', { exact: true }).fill('Ana');
    await ana.getByRole('button', { name: 'Join' }).click();
    await expect
      .poll(() => ana.locator('#joinError').textContent(), POLL)
      .toContain('A room name is 1 to 64 letters, digits');
    expect(await ana.locator('#meeting').isHidden()).toBe(true);
  });

  it("two people join and see each other's video", async () => {
    await joinAs(ana, 'Ana');
    ben = await open();
    await joinAs(ben, 'Ben');
    await expectDecoding(ana, `${tileOf('Ben')} video`);
    await expectDecoding(ben, `${tileOf('Ana')} video`);
    expect(await participantList(ben)).toEqual(['Ben (you)', 'Ana']);
    expect(await serverParticipants()).toEqual(['Ana', 'Ben']);
    // Connection quality, graded from getStats every 2 s (loopback: good).
    await ben.waitForSelector(`${tileOf('Ana')} .quality[data-level="good"]`);
    await ben.waitForSelector('#quality[data-level="good"]');
    await ana.getByLabel('message').fill('hello Ben');
    await ana.getByLabel('message').press('Enter');
    await ben.waitForSelector('#messages li:has-text("hello Ben")');
    expect(await ben.locator('#messages li').allTextContents()).toEqual(['Ana: hello Ben']);
  });

  it('mute: the other side sees the indicator and hears silence', async () => {
    const heard = (l: number) => l > 0.01;
    // A whole window without a beep (the fake microphone beeps every second), once the jitter
    // buffer has played out what was on its way.
    const silent = (l: number) => l >= 0 && l < 0.001;
    expect(await eventually(() => loudness(ben, tileOf('Ana')), heard)).toBeGreaterThan(0.01);
    await ana.getByRole('button', { name: 'Mute' }).click();
    await ben.waitForSelector(`${tileOf('Ana')} .muted-indicator:visible`);
    await ben.waitForSelector('#participants li:has-text("Ana") .muted-indicator');
    expect(await ana.getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed')).toBe('true');
    expect(await eventually(() => loudness(ben, tileOf('Ana')), silent)).toBeLessThan(0.001);
    // By keyboard this time.
    await ana.getByRole('button', { name: 'Unmute' }).focus();
    await ana.keyboard.press('Enter');
    await ben.waitForSelector(`${tileOf('Ana')} .muted-indicator`, { state: 'hidden' });
    expect(await eventually(() => loudness(ben, tileOf('Ana')), heard)).toBeGreaterThan(0.01);
    // Another microphone, mid-meeting: the same stream carries it on.
    const micDevice = ana.getByLabel('Microphone device', { exact: true });
    const current = await micDevice.inputValue();
    const other = (
      await micDevice.locator('option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))
    ).find((id) => id !== current)!;
    await micDevice.selectOption(other);
    const sent = () =>
      ana.$eval('figure[data-key="self"] video', (v: HTMLVideoElement) =>
        (v.srcObject as MediaStream).getAudioTracks().map((t) => t.getSettings().deviceId),
      );
    expect(await eventually(sent, (ids) => ids[0] === other)).toEqual([other]);
    expect(await eventually(() => loudness(ben, tileOf('Ana')), heard)).toBeGreaterThan(0.01);
  });

  it('camera off and on: the other side sees it go and come back', async () => {
    await ana.getByRole('button', { name: 'Camera off' }).click();
    await ben.waitForSelector(`${tileOf('Ana')}.video-off`);
    await ana.waitForSelector('figure[data-key="self"].video-off');
    // The camera itself is let go (its light goes out), not only paused.
    expect(
      await ana.evaluate(() =>
        (document.querySelector<HTMLVideoElement>('figure[data-key="self"] video')!.srcObject as MediaStream)
          .getVideoTracks()
          .every((t) => t.readyState === 'ended'),
      ),
    ).toBe(true);
    await ana.getByRole('button', { name: 'Camera on' }).click();
    await ben.waitForSelector(`${tileOf('Ana')}:not(.video-off)`);
    await expectDecoding(ben, `${tileOf('Ana')} video`);
  });

  it('screen share: the other side decodes it; stopping removes it', async () => {
    await ana.getByRole('button', { name: 'Share screen' }).click();
    await expectDecoding(ben, '#grid figure.screen video');
    expect(await ben.locator('#grid figure.screen .name').textContent()).toBe("Ana's screen");
    await ana.getByRole('button', { name: 'Stop sharing' }).click();
    await ben.waitForSelector('#grid figure.screen', { state: 'detached' });
  });

  it("the mixed view shows the room's MCU stream", async () => {
    // Until asked for, the MCU's stream is not received (it carries everyone again).
    expect(await ben.$eval('#mixed video', (v: HTMLVideoElement) => v.srcObject)).toBeNull();
    await ben.getByLabel('Layout').selectOption('mixed');
    await expectDecoding(ben, '#mixed video');
    expect(await ben.locator('#banner').isHidden(), 'no error shown').toBe(true);
    expect(await ben.locator('#grid').isHidden()).toBe(true);
    await ben.getByLabel('Layout').selectOption('speaker');
    expect(await ben.locator('#mixed').isHidden()).toBe(true);
    expect(await ben.locator('#grid figure.featured').count()).toBe(1);
    await ben.getByLabel('Layout').selectOption('grid');
  });

  /** Nothing past the right edge at a width; a full-page screenshot kept in test-results/. */
  async function expectFits(page: Page, name: string, size: { width: number; height: number }) {
    await page.setViewportSize(size);
    await page.waitForTimeout(300);
    const layout = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const outside = [...document.querySelectorAll<HTMLElement>('body *')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.left < -1 || r.right > width + 1;
        })
        .map((el) => el.id || el.className || el.tagName);
      return { scroll: document.documentElement.scrollWidth, width, outside };
    });
    expect(layout.outside, `${name}: elements past the edge`).toEqual([]);
    expect(layout.scroll, `${name}: no horizontal scroll`).toBeLessThanOrEqual(layout.width);
    const png = await page.screenshot({ path: `${SHOTS}/meet-${name}.png`, fullPage: true });
    // A full-page screenshot grows wider than the viewport when the page overflows.
    expect(png.readUInt32BE(16), `${name} screenshot width`).toBe(size.width);
  }

  it('screenshots at desktop and phone width: nothing overflows', async () => {
    for (const [name, size] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await expectFits(ben, name, size);
      for (const control of ['Mute', 'Camera off', 'Share screen', 'Leave'])
        expect(await ben.getByRole('button', { name: control }).isVisible(), control).toBe(true);
    }
    await ben.setViewportSize(DESKTOP);
  });

  it('leave: the other side updates, nothing stale on either page', async () => {
    await ana.getByRole('button', { name: 'Leave' }).click();
    await ana.waitForSelector('#prejoin:visible');
    expect(await ana.locator('#grid figure').count()).toBe(0);
    expect(await participantList(ana)).toEqual([]);
    expect(await ana.locator('#banner').isHidden(), 'no "disconnected" news for leaving').toBe(true);
    expect(
      await eventually(
        () => participantList(ben),
        (l) => l.length === 1,
      ),
    ).toEqual(['Ben (you)']);
    await ben.waitForSelector(tileOf('Ana'), { state: 'detached' });
    expect(await serverParticipants()).toEqual(['Ben']);
    await expectFits(ana, 'prejoin-phone', PHONE);
    await ana.setViewportSize(DESKTOP);
  });

  it('rejoin in the same tab, without camera, and turn it on there: video decodes both ways', async () => {
    await expectDecoding(ana, '#preview video');
    await ana.getByLabel('Camera on', { exact: true }).uncheck();
    await joinAs(ana, 'Ana');
    await expectDecoding(ana, `${tileOf('Ben')} video`);
    await ben.waitForSelector(`${tileOf('Ana')}.video-off`);
    await ana.getByRole('button', { name: 'Camera on' }).click();
    await expectDecoding(ben, `${tileOf('Ana')} video`);
    await ben.waitForSelector(`${tileOf('Ana')}:not(.video-off)`);
    expect(await participantList(ana)).toEqual(['Ana (you)', 'Ben']);
    expect(await ana.locator('#grid figure.person').count()).toBe(2); // Ana's own and Ben's
  });

  it('camera refused: a clear message, and no ghost participant on the server', async () => {
    // A browser whose camera prompt is answered "block" (no fake consent).
    const strict = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: chromiumFlags.filter((f) => f !== '--use-fake-ui-for-media-stream'),
    });
    try {
      const cy = await open(strict);
      await expect.poll(() => cy.locator('#joinError').textContent(), POLL).toContain('access was refused');
      await cy.getByLabel('Room', { exact: true }).fill(ROOM);
      await cy.getByLabel('Your name', { exact: true }).fill('Cy');
      await cy.getByRole('button', { name: 'Join' }).click();
      await expect.poll(() => cy.locator('#joinButton').isEnabled(), POLL).toBe(true);
      expect(await cy.locator('#joinError').textContent()).toContain('access was refused');
      expect(await cy.locator('#meeting').isHidden()).toBe(true);
      expect(await serverParticipants()).toEqual(['Ana', 'Ben']);
      expect(await participantList(ben)).toEqual(['Ben (you)', 'Ana']);
      // As the message says: without camera and microphone, the join goes through.
      await cy.getByLabel('Camera on', { exact: true }).uncheck();
      await cy.getByLabel('Microphone on', { exact: true }).uncheck();
      await cy.getByRole('button', { name: 'Join' }).click();
      await cy.waitForSelector(`#status:has-text("in room ${ROOM}")`);
      await ben.waitForSelector('#participants li:has-text("Cy") .muted-indicator');
      await ben.waitForSelector(`${tileOf('Cy')}.video-off`);
      expect(await serverParticipants()).toEqual(['Ana', 'Ben', 'Cy']);
      await cy.getByRole('button', { name: 'Leave' }).click();
      expect(await eventually(serverParticipants, (l) => l.length === 2)).toEqual(['Ana', 'Ben']);
    } finally {
      await strict.close();
    }
  });
});
