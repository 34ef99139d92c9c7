import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type LoginRoom,
  MAX_MESSAGE_BYTES,
  type SignalingResponse,
  type StreamsPage,
} from '../../shared/protocol/signaling.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';

/** A signaling client without media: raw frames, so the size of every answer is known. */
class RawPeer {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, (answer: { response: SignalingResponse; bytes: number }) => void>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString());
      if ('event' in message) return;
      this.#waiting.get(message.id)?.({ response: message, bytes: data.length });
      this.#waiting.delete(message.id);
    });
  }

  static async open(cluster: LocalCluster, room: string, user: string): Promise<RawPeer> {
    const ws = new WebSocket(`${cluster.signalingUrl}?token=${await cluster.token(room, user)}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new RawPeer(ws);
  }

  /** The answer and its frame's size; fails on an error answer or none within 20 s. */
  async request<T>(method: string, params: unknown): Promise<{ data: T; bytes: number }> {
    const id = this.#next++;
    const answer = await new Promise<{ response: SignalingResponse; bytes: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in 20 s`)), 20_000);
      this.#waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
    if (!answer.response.ok) throw new Error(`${method}: ${JSON.stringify(answer.response.error)}`);
    return { data: answer.response.data as T, bytes: answer.bytes };
  }

  close(): void {
    this.#ws.close();
  }
}

type Login = { room: LoginRoom; consumers: { producerId: string }[]; transports: { send: { id: string } } };

let ssrc = 100_000;
/** Valid synthetic RTP parameters (no media flows; the streams only have to exist). */
const rtpParameters = (kind: 'audio' | 'video') => ({
  codecs: [
    kind === 'video'
      ? { mimeType: 'video/VP8', payloadType: 96, clockRate: 90_000, parameters: {}, rtcpFeedback: [] }
      : { mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2, parameters: {} },
  ],
  encodings: [{ ssrc: ssrc++ }],
  headerExtensions: [],
  rtcp: { cname: 'synthetic' },
});

/** A publisher with `count` streams (video and audio in turn), published `window` at a time. */
async function publisher(
  cluster: LocalCluster,
  room: string,
  user: string,
  rtpCapabilities: unknown,
  count: number,
  window = 20,
): Promise<{ peer: RawPeer; ids: string[] }> {
  const peer = await RawPeer.open(cluster, room, user);
  const { data: login } = await peer.request<Login>('login', { rtpCapabilities });
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const kind = i % 2 ? 'audio' : 'video';
      const { data } = await peer.request<{ id: string }>('publish', {
        transportId: login.transports.send.id,
        kind,
        rtpParameters: rtpParameters(kind),
        source: kind === 'video' ? 'camera' : 'mic',
      });
      ids.push(data.id);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { peer, ids };
}

/** Logs in, pages through the stream list, and leaves: the login answer's size and every stream id listed. */
async function joinAndList(cluster: LocalCluster, room: string, user: string, rtpCapabilities: unknown) {
  const peer = await RawPeer.open(cluster, room, user);
  const { data: login, bytes } = await peer.request<Login>('login', { rtpCapabilities });
  const listed = login.room.streams.map((s) => s.id);
  const pages: number[] = [];
  for (let cursor = login.room.cursors?.streams; cursor; ) {
    const page = await peer.request<StreamsPage>('room.streams', { cursor });
    pages.push(page.bytes);
    listed.push(...page.data.streams.map((s) => s.id));
    cursor = page.data.cursor;
  }
  peer.close();
  return { bytes, login, listed, pages };
}

describe('joining a large room on the local cluster: every answer fits the gateway frame limit', () => {
  const suite = browserSuite(() =>
    startLocalCluster(['node-1'], {
      MAX_PRODUCERS_PER_PARTICIPANT: '100',
      SIGNALING_MESSAGES_PER_SECOND: '1000',
      MAX_CONSUMERS_PER_PARTICIPANT: '2000',
    }),
  );
  const sdkJoin = async (page: Page, room: string, user: string, autoSubscribe: boolean) =>
    page.evaluate(
      ([u, t, s, a]) => window.peer.join(u, t, { signalingUrl: s, publish: false, autoSubscribe: a }),
      [
        suite.target.url,
        await suite.target.token(room, user),
        suite.target.signalingUrl,
        autoSubscribe,
      ] as const,
    );

  it('a joiner of a room with 1,000 streams gets a login answer under 128 KiB and pages in every stream; the SDK lists them all', async () => {
    const cluster = suite.target;
    const caps = await (await fetch(`${cluster.url}/v1/rtp-capabilities`)).json();
    const room = 'thousand';
    const sizes: Record<number, number> = {};

    const empty = await joinAndList(cluster, room, 'early', caps);
    sizes[0] = empty.bytes;
    expect(empty.login.room.cursors).toBeUndefined();

    // Ten publishers of 100 streams each, one after the other (fewer stream events to fan out).
    const publishers: { peer: RawPeer; ids: string[] }[] = [];
    for (let p = 0; p < 10; p++) {
      publishers.push(await publisher(cluster, room, `pub-${p}`, caps, 100));
      if (p === 0) {
        const hundred = await joinAndList(cluster, room, 'at-100', caps);
        sizes[100] = hundred.bytes;
        expect(new Set(hundred.listed)).toEqual(new Set(publishers[0]!.ids));
      }
    }
    const all = publishers.flatMap((p) => p.ids);
    expect(new Set(all).size).toBe(1000);

    const big = await joinAndList(cluster, room, 'at-1000', caps);
    sizes[1000] = big.bytes;
    console.log(`login answer bytes by streams in the room: ${JSON.stringify(sizes)}; pages: ${big.pages}`);
    for (const bytes of [...Object.values(sizes), ...big.pages])
      expect(bytes).toBeLessThan(MAX_MESSAGE_BYTES);
    // Every stream listed exactly once; the first ones come with a consumer.
    expect(big.listed).toHaveLength(1000);
    expect(new Set(big.listed)).toEqual(new Set(all));
    expect(big.login.room.cursors?.streams).toBeDefined();
    expect(big.login.consumers.length).toBeGreaterThan(0);
    expect(big.login.room.participants.map((p) => p.user).sort()).toContain('pub-9');

    // The SDK pages the lists in before join() resolves.
    const page = await openPeer(suite.browser, suite.pages);
    await sdkJoin(page, room, 'sdk-viewer', false);
    const seen = await page.evaluate(() => window.peer.streamIds());
    expect(seen).toEqual([...all].sort());
    // The raw joiners have left (their leave may still be on its way).
    const expected = publishers.map((_, p) => `pub-${p}`).sort();
    const users = await eventually(
      () => page.evaluate(() => window.peer.participants()),
      (u) => JSON.stringify(u) === JSON.stringify(expected),
    );
    expect(users).toEqual(expected);
    await page.context().close();
    for (const p of publishers) p.peer.close();
  }, 240_000);

  it('with autoSubscribe, the SDK receives the streams that did not come with a consumer', async () => {
    const cluster = suite.target;
    const caps = await (await fetch(`${cluster.url}/v1/rtp-capabilities`)).json();
    const room = 'lazy';
    const publishers = [
      await publisher(cluster, room, 'pub-a', caps, 60),
      await publisher(cluster, room, 'pub-b', caps, 60),
    ];
    const all = publishers.flatMap((p) => p.ids).sort();
    const probe = await joinAndList(cluster, room, 'probe', caps);
    // More streams than the login answer brings consumers for: the SDK has to subscribe itself.
    expect(probe.login.consumers.length).toBeLessThan(all.length);

    const page = await openPeer(suite.browser, suite.pages);
    await sdkJoin(page, room, 'sdk-receiver', true);
    const received = await eventually(
      () => page.evaluate(() => window.peer.trackStreamIds()),
      (ids) => ids.length >= all.length,
      60_000,
    );
    expect(received).toEqual(all);
    await page.context().close();
    for (const p of publishers) p.peer.close();
  }, 180_000);
});
