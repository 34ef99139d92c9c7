import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/chromium.ts';
import { type EmbeddedServer, eventually, startEmbedded } from '../harness/embedded.ts';

describe('the demo page the embedded server serves', () => {
  let server: EmbeddedServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startEmbedded({ DEMO_JOIN: 'on' }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function joinThroughTheForm(name: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.fill('#room', 'demo-room');
    await page.fill('#name', name);
    await page.click('#joinButton');
    await page.waitForSelector('#status:has-text("in room demo-room")');
    return page;
  }

  it("two people join through the form, see each other's video, and chat", async () => {
    const ana = await joinThroughTheForm('Ana');
    const ben = await joinThroughTheForm('Ben');
    for (const page of [ana, ben]) {
      const size = await eventually(
        () =>
          page.evaluate(() =>
            [...document.querySelectorAll<HTMLVideoElement>('figure:not(#tile-self) video')].map(
              (v) => v.videoWidth,
            ),
          ),
        (widths) => widths.some((w) => w > 0),
      );
      expect(size.some((w) => w > 0)).toBe(true);
    }
    expect(await ben.locator('#participants li').allTextContents()).toEqual(['Ben (you)', 'Ana']);
    await ana.fill('#message', 'hello Ben');
    await ana.press('#message', 'Enter');
    await ben.waitForSelector('#messages li:has-text("hello Ben")');
    expect(await ben.locator('#messages li').allTextContents()).toEqual(['Ana: hello Ben']);
    if (process.env.DEMO_SCREENSHOT) await ben.screenshot({ path: process.env.DEMO_SCREENSHOT });
    await ana.click('#leave');
    await ben.waitForSelector('#participants li >> nth=0');
    expect(
      await eventually(
        () => ben.locator('#participants li').allTextContents(),
        (l) => l.length === 1,
      ),
    ).toEqual(['Ben (you)']);
  });
});
