// The MCU's acceptance 6 (issue #13): on the local cluster, with a room's participants on two
// media nodes, the view mixes all of them. Three participants a node (ROOM_PEERS_PER_NODE=3),
// joined in order: red, blue and the host's viewer on the room's host (where the view is mixed),
// green, yellow and the far viewer on the other node (their tracks piped to the host's mixer, the
// mixed stream piped back to them). Each viewer samples the mixed stream over its REST layout:
// every region shows its publisher's colour, and the mixed audio carries every publisher's tone.
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRoomNodes } from '../../shared/adapters/redis/RedisRoomNodes.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';
import {
  fluidRegions,
  type Joined,
  meterTones,
  PARTICIPANTS,
  pageNow,
  sampleVideo,
  toneReport,
} from '../harness/instruments.ts';
import { fluidView, MIXED, type MixedStream, rest, sampleMixed } from '../harness/mcuScenario.ts';
import type { SyntheticOptions } from './pages/instruments.ts';

const ROOM = 'mcu-span';

describe('MCU on the local cluster: a view mixes participants of two media nodes (Chromium)', () => {
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { ROOM_PEERS_PER_NODE: '3', REDIS_DB: '14' }),
  );
  const opened: Page[] = [];
  afterEach(() =>
    Promise.all(
      opened.splice(0).map((p) =>
        p
          .context()
          .close()
          .catch(() => {}),
      ),
    ),
  );

  const join = async (page: Page, user: string, synthetic: SyntheticOptions | undefined) =>
    page.evaluate(
      ([u, t, s, synth]) =>
        window.peer.join(u, t, {
          signalingUrl: s,
          autoSubscribe: 'all',
          ...(synth ? { synthetic: synth } : { publish: false }),
        }),
      [
        suite.target.url,
        await suite.target.token(ROOM, user, 'presenter', { views: [fluidView] }),
        suite.target.signalingUrl,
        synthetic,
      ] as const,
    ) as Promise<Joined>;

  it('acceptance 6: a viewer on either node sees every publisher’s region and hears every tone', async () => {
    const four = PARTICIPANTS.slice(0, 4);
    const pages = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const page = await openPeer(suite.browser, suite.pages);
        opened.push(page);
        return page;
      }),
    );
    // Joined one at a time: placement fills the host with three, then the other node.
    const order = [four[0]!, four[1]!, 'host-viewer', four[2]!, four[3]!, 'far-viewer'] as const;
    const joined: Joined[] = [];
    for (const [i, who] of order.entries())
      joined.push(
        await join(
          pages[i]!,
          typeof who === 'string' ? who : who.name,
          typeof who === 'string' ? undefined : { colour: who.colour, toneHz: who.toneHz },
        ),
      );
    const redis = new Redis(suite.target.redisUrl);
    const counts = await new RedisRoomNodes(redis).counts(roomKey('super', ROOM));
    redis.disconnect();
    expect(Object.values(counts).sort()).toEqual([3, 3]);

    const publishers = [joined[0]!, joined[1]!, joined[3]!, joined[4]!];
    const colourOf = new Map(publishers.map((p, i) => [p.published.stream!, four[i]!.name]));
    const viewers = [pages[2]!, pages[5]!];
    const mixed = async () => (await rest(suite.target, 'GET', `/v1/rooms/${ROOM}/streams/${MIXED}`)).body;

    // The mixed stream's record shows all four publications in the fluid 2×2 layout.
    const record = (await eventually(
      mixed,
      (s) => new Set((s as MixedStream).info?.layout?.map((e) => e.stream)).size === 4,
      30_000,
    )) as MixedStream;
    expect(record).toMatchObject({ id: MIXED, type: 'mixed' });
    expect(new Set(record.info.layout!.map((e) => e.stream))).toEqual(new Set(colourOf.keys()));

    for (const [i, page] of viewers.entries()) {
      const has = await eventually(
        () =>
          page.evaluate(
            (m) => window.instruments.has(m, 'video') && window.instruments.has(m, 'audio'),
            MIXED,
          ),
        (ok) => ok,
        30_000,
      );
      expect(has, `viewer ${i} receives the mixed stream`).toBe(true);
      await sampleVideo(page, MIXED, fluidRegions(4));
      await meterTones(
        page,
        MIXED,
        four.map((p) => p.toneHz),
      );
    }

    for (const [i, page] of viewers.entries()) {
      const sampled = await eventually(
        () => sampleMixed(page, record, colourOf, 2000),
        (s) => s.seen.every((c, r) => c === s.expected[r]),
        30_000,
      );
      console.log(`[mcu-cluster] viewer ${i} sees ${sampled.seen.join(' ')}`);
      expect(sampled.seen).toEqual(sampled.expected);
      for (const r of sampled.report.regions) expect(r.decodeRate).toBeGreaterThan(0.3);

      const since = (await pageNow(page)) + 500;
      await new Promise((r) => setTimeout(r, 3000));
      const heard = await toneReport(page, MIXED, since);
      console.log(`[mcu-cluster] viewer ${i} hears ${JSON.stringify(heard)}`);
      for (const t of heard) expect(t.presentShare, `viewer ${i} hears ${t.hz} Hz`).toBeGreaterThan(0.8);
    }
  }, 150_000);
});
