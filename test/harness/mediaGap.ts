import type { Page } from 'playwright-core';

/**
 * Watches, from `since` on, every receiver's video from every other participant, and measures
 * how long each (receiver, sender) pair went without a new decoded frame. Frames are compared
 * per stream, so a stream replaced by a rejoin (new track, count from 0) is not taken for one
 * that advanced.
 */
export function watchMediaGaps(participants: { page: Page; id: string }[], since = Date.now()) {
  const lastAdvance = new Map<string, number>();
  const frames = new Map<string, number>();
  /** Per pair: the longest stall, and when the frames advanced at its end. */
  const longest = new Map<string, { gapMs: number; resumedAt: number }>();
  let watching = true;
  const sample = async (receiver: { page: Page; id: string }) => {
    const received = await receiver.page.evaluate(() => window.peer.received()).catch(() => []);
    const now = Date.now();
    for (const sender of participants) {
      if (sender.id === receiver.id) continue;
      const pair = `${receiver.id}<-${sender.id}`;
      const advanced = received.some((r) => {
        if (r.owner !== sender.id || r.kind !== 'video') return false;
        const key = `${receiver.id}:${r.streamId}`;
        const before = frames.get(key) ?? 0;
        frames.set(key, r.framesDecoded);
        return r.framesDecoded > before;
      });
      if (!advanced) continue;
      const gapMs = now - (lastAdvance.get(pair) ?? since);
      if (gapMs > (longest.get(pair)?.gapMs ?? -1)) longest.set(pair, { gapMs, resumedAt: now });
      lastAdvance.set(pair, now);
    }
  };
  const loop = (async () => {
    while (watching) {
      await Promise.all(participants.map(sample));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    /**
     * Stops watching: whether every pair advanced at all, the longest stall of any pair, and
     * when the last pair stalled over a second resumed (ms after `since`).
     */
    async stop() {
      watching = false;
      await loop;
      const pairs = participants.length * (participants.length - 1);
      const all = [...longest.values()];
      return {
        complete: all.length === pairs,
        longestGapMs: Math.max(0, ...all.map((p) => p.gapMs)),
        recoveredAfterMs: Math.max(0, ...all.filter((p) => p.gapMs > 1000).map((p) => p.resumedAt - since)),
      };
    },
  };
}
