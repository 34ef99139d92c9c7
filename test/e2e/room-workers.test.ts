import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, expectEveryoneReceivesNow } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

describe('a room that grows across the workers of one node', () => {
  // One participant per worker's router: the second participant makes the room grow onto worker 2.
  const suite = browserSuite(() => startEmbedded({ MEDIA_WORKERS: '2', ROOM_PEERS_PER_WORKER: '1' }));

  const join = async (page: Page, user: string) =>
    page.evaluate(([u, t]) => window.peer.join(u, t, {}), [
      suite.target.url,
      await suite.target.token('grown', user),
    ] as const);

  it('participants on different workers receive each other over pipeToRouter, and data crosses too', async () => {
    const pages = await Promise.all(Array.from({ length: 3 }, () => openPeer(suite.browser, suite.pages)));
    const ids: { id: string }[] = [];
    for (const [i, page] of pages.entries()) ids.push(await join(page, ['ana', 'ben', 'cy'][i]!));
    const room = suite.target.system.mediaNode.rooms.get(roomKey('super', 'grown'))!;
    const pids = room.workers.map((w) => w.pid);
    expect(new Set(pids).size).toBe(2);
    expect(suite.target.system.mediaNode.workers.workers.map((w) => w.pid).sort()).toEqual([...pids].sort());

    await expectEveryoneReceivesNow(pages.map((page, i) => ({ page, id: ids[i]!.id })));

    // A data channel from a participant on worker 1 reaches one on worker 2.
    const [ana, ben] = pages;
    const fromAna = await ana!.evaluate(() => window.peer.openData('ana-out'));
    await ben!.evaluate((id) => window.peer.subscribeData(id), fromAna);
    await ana!.evaluate(() => window.peer.sendData('across workers'));
    const texts = await eventually(
      () => ben!.evaluate(() => window.peer.texts()),
      (t) => t.includes('data:across workers'),
    );
    expect(texts).toContain('data:across workers');
    for (const page of pages) await page.context().close();
  });
});
