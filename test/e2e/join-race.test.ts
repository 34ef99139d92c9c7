import { describe, expect, it } from 'vitest';
import { browserSuite } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

const ROUNDS = 24;
const CHUNKS = 4;

/**
 * A participant joins while another replaces its camera stream (unpublish, publish again): the
 * login may list the old stream, subscribe to it as it closes, or resume a consumer already
 * gone. Whatever the timing, the joiner ends up receiving the new stream, and the server never
 * answers an error the SDK reports.
 */
describe('a join racing a republish', () => {
  const suite = browserSuite(() => startLocalCluster(['node-1'], { REDIS_DB: '7' }));
  let publisher: Awaited<ReturnType<typeof openPeer>> | undefined;

  const token = (user: string) => suite.target.token('race-room', user);

  // Offsets 0–400 ms, swept over all rounds; each test takes every CHUNKS-th one.
  it.each(Array.from({ length: CHUNKS }, (_, c) => c))('rounds %i of 4', async (chunk) => {
    if (!publisher) {
      publisher = await openPeer(suite.browser, suite.pages);
      const [url, t, signalingUrl] = [suite.target.url, await token('ana'), suite.target.signalingUrl];
      await publisher.evaluate(([u, tk, s]) => window.peer.join(u, tk, { signalingUrl: s }), [
        url,
        t,
        signalingUrl,
      ] as const);
    }
    const joiner = await openPeer(suite.browser, suite.pages);
    const complaints: string[] = [];
    joiner.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') complaints.push(m.text());
    });
    for (let round = chunk; round < ROUNDS; round += CHUNKS) {
      const offset = Math.round((round * 400) / (ROUNDS - 1));
      const t = await token(`joiner-${round}`);
      const joining = joiner
        .evaluate(([u, tk, s]) => window.peer.join(u, tk, { signalingUrl: s, publish: false }), [
          suite.target.url,
          t,
          suite.target.signalingUrl,
        ] as const)
        .then(
          () => 'joined',
          (e: Error) => `join failed: ${e.message}`,
        );
      await new Promise((r) => setTimeout(r, offset));
      const republished = await publisher.evaluate(() => window.peer.republish('video'));
      expect(await joining, `round ${round} (${offset} ms)`).toBe('joined');
      const received = await eventually(
        () => joiner.evaluate(() => window.peer.received()),
        (r) => r.some((s) => s.streamId === republished && s.framesDecoded > 0),
        10_000,
      );
      expect(
        received.some((s) => s.streamId === republished && s.framesDecoded > 0),
        `round ${round} (${offset} ms): the joiner receives the new stream ${JSON.stringify({ received, complaints })}`,
      ).toBe(true);
      expect(complaints, `round ${round} (${offset} ms)`).toEqual([]);
      await joiner.evaluate(() => window.peer.leave());
    }
    await joiner.context().close();
  });
});
