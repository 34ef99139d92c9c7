import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, expectEveryoneHearsAndSees } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

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

describe('conference on the embedded server (three Chromium participants)', () => {
  const suite = browserSuite(() => startEmbedded());

  it('three participants each publish audio and video and receive the other two; a late joiner gets existing streams', async () => {
    const [a, b] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ida = await join(a, suite.target.url, await suite.target.token('room-3', 'ana'));
    const idb = await join(b, suite.target.url, await suite.target.token('room-3', 'ben'));
    // The third arrives after the others publish: its streams come with login.
    const c = await openPeer(suite.browser, suite.pages);
    const idc = await join(c, suite.target.url, await suite.target.token('room-3', 'cy'));

    await expectEveryoneHearsAndSees([
      { page: a, id: ida.id },
      { page: b, id: idb.id },
      { page: c, id: idc.id },
    ]);
    expect(await c.evaluate(() => window.peer.participants())).toEqual(['ana', 'ben']);
    // The SDK's certificate went with the login: the node connected the transports then, and
    // the browser reached 'connected' with no transport.connect round trip (no answer to mark).
    const marks = await c.evaluate(() =>
      ['recv-connect-sent', 'recv-connect-done', 'recv-connected'].map(
        (name) => performance.getEntriesByName(`tessera:${name}`).length,
      ),
    );
    expect(marks).toEqual([1, 0, 1]);
    // Everyone's fake microphone beeps: the room announces active speakers, and they are participants.
    const speakers = await eventually(
      () => a.evaluate(() => window.peer.speakers()),
      (s) => s.length > 0,
    );
    expect([ida.id, idb.id, idc.id]).toEqual(expect.arrayContaining([speakers[0]]));

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
    const listed = await fetch(`${suite.target.url}/v1/rooms/room-3/participants`, {
      headers: {
        authorization: await (await import('../harness/controlPlane.ts')).bearer(
          suite.target.system.superService.id,
          suite.target.system.superService.key,
        ),
      },
    }).then((r) => r.json());
    expect(listed.map((p: { user: string }) => p.user)).toEqual(['ana']);
    await a.context().close();
    // Empty, the room is closed on the node after its grace period (1 s here): routers released.
    const rooms = suite.target.system.mediaNode.rooms;
    expect(
      await eventually(
        async () => rooms.get(roomKey('super', 'room-3')),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
  });
});
