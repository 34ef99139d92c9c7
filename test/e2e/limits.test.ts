import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../shared/config/load.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import {
  browserSuite,
  expectEveryoneHearsAndSees,
  expectEveryoneReceivesNow,
} from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

/** The fields of answers this test reads (login's, mostly). */
type Data = {
  participant: { id: string };
  transports: { send?: { id: string }; recv?: { id: string } };
  consumers: { id: string; producerId: string }[];
};
type Answer = { id: number; ok: boolean; data: Data; error?: { code: number; message: string } };

/** A participant speaking raw signaling over `ws`: what a hostile or buggy client can do. */
async function rawClient(url: string, token: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token}`);
  const answers = new Map<number, Answer>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if ('id' in m) answers.set(m.id, m);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 0;
  const send = (method: string, params: unknown) => {
    const id = ++next;
    ws.send(JSON.stringify({ id, method, params }));
    return id;
  };
  /** Sends every request at once, then waits for every answer. */
  const flood = async (requests: [string, unknown][]) => {
    const ids = requests.map(([m, p]) => send(m, p));
    await eventually(
      async () => ids.filter((id) => answers.has(id)).length,
      (n) => n === ids.length,
      20_000,
    );
    return ids.map((id) => answers.get(id)!);
  };
  const request = async (method: string, params: unknown) => (await flood([[method, params]]))[0]!;
  return { ws, flood, request };
}

/** Synthetic but valid VP8 RTP parameters; mediasoup produces without any media arriving. */
const vp8 = (ssrc: number) => ({
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
      ],
    },
  ],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} }],
  encodings: [{ ssrc }],
  rtcp: { cname: 'mallory', reducedSize: true },
});

const limits = loadConfig({}).limits;
const refillMs = (2 * limits.messagesPerSecond * 1000) / limits.messagesPerSecond + 200;

describe('per-participant limits on the embedded server', () => {
  const suite = browserSuite(() => startEmbedded());

  const joinPeer = async (room: string, user: string) => {
    const page = await openPeer(suite.browser, suite.pages);
    const joined = await page.evaluate(([u, t]) => window.peer.join(u, t, {}), [
      suite.target.url,
      await suite.target.token(room, user),
    ] as const);
    return { page, ...joined };
  };

  it('a flooding participant hits its caps and rates (1303); everyone else keeps working', async () => {
    const a = await joinPeer('limits', 'ana');
    const b = await joinPeer('limits', 'ben');
    await expectEveryoneHearsAndSees([a, b]);

    const caps = await (await fetch(`${suite.target.url}/v1/rtp-capabilities`)).json();
    const mallory = await rawClient(suite.target.url, await suite.target.token('limits', 'mallory'));
    const login = await mallory.request('login', { rtpCapabilities: caps });
    expect(login.ok, JSON.stringify(login.error)).toBe(true);
    const sendTransport = login.data.transports.send!.id;

    // 1,000 publishes at once: exactly the cap succeeds, every other one is refused with 1303.
    const published = await mallory.flood(
      Array.from({ length: 1000 }, (_, i) => [
        'publish',
        { transportId: sendTransport, kind: 'video', source: 'camera', rtpParameters: vp8(100_000 + i) },
      ]),
    );
    const ok = published.filter((r) => r.ok);
    const refused = published.filter((r) => !r.ok);
    expect(ok).toHaveLength(limits.producersPerParticipant);
    expect(new Set(refused.map((r) => r.error!.code))).toEqual(new Set([1303]));
    const messages = new Set(refused.map((r) => r.error!.message));
    expect(messages).toContain(
      `limit producersPerParticipant reached: at most ${limits.producersPerParticipant} audio/video streams per participant`,
    );
    // Whatever the cap did not refuse, the message rate did; nothing else.
    expect([...messages].every((m) => /producersPerParticipant|messagesPerSecond/.test(m))).toBe(true);
    const room = suite.target.system.mediaNode.rooms.get(roomKey('super', 'limits'))!;
    expect(room.peer(login.data.participant.id)!.producers.size).toBe(limits.producersPerParticipant);

    // The two browsers still see and hear each other, now.
    await expectEveryoneReceivesNow([a, b]);

    // One subscription per stream: login already subscribed mallory (paused) to what was
    // published; subscribing again to the same stream is refused, naming that subscription.
    await new Promise((r) => setTimeout(r, refillMs));
    const existing = login.data.consumers.find((c) => c.producerId === a.published.video);
    expect(existing).toBeDefined();
    const again = await mallory.request('subscribe', { producerId: a.published.video });
    expect(again.error).toEqual({
      code: 1303,
      message: `already subscribed to ${a.published.video} (subscription ${existing!.id}): one subscription per stream`,
      details: { limit: 'subscriptionsPerStream', max: 1, subscription: existing!.id },
    });
    const other = await mallory.request('unsubscribe', { consumerId: existing!.id });
    expect(other.ok).toBe(true);
    const fresh = await mallory.request('subscribe', { producerId: a.published.video });
    expect(fresh.ok, JSON.stringify(fresh.error)).toBe(true);

    // 200 texts at once: the text rate lets a burst through, refuses the rest; browsers get exactly the allowed ones.
    const texts = await mallory.flood(
      Array.from({ length: 200 }, (_, i) => ['text', { to: 'all', message: `flood-${i}` }]),
    );
    const delivered = texts.flatMap((r, i) => (r.ok ? [`flood-${i}`] : []));
    expect(delivered.length).toBeGreaterThanOrEqual(2 * limits.textsPerSecond);
    expect(delivered.length).toBeLessThan(200);
    expect(new Set(texts.filter((r) => !r.ok).map((r) => r.error!.code))).toEqual(new Set([1303]));
    expect(texts.find((r) => !r.ok)!.error!.message).toMatch(/textsPerSecond|messagesPerSecond/);
    for (const page of [a.page, b.page]) {
      const got = await eventually(
        async () => (await page.evaluate(() => window.peer.texts())).filter((t) => t.includes(':flood-')),
        (t) => t.length >= delivered.length,
      );
      expect(got.map((t) => t.split(':')[1]).sort()).toEqual([...delivered].sort());
    }

    // A ping flood: a burst of 2 × messagesPerSecond passes, the rest is refused; after a pause, pings pass again.
    await new Promise((r) => setTimeout(r, refillMs));
    const pings = await mallory.flood(Array.from({ length: 400 }, () => ['ping', {}]));
    const pingOk = pings.filter((r) => r.ok).length;
    expect(pingOk).toBeGreaterThanOrEqual(2 * limits.messagesPerSecond);
    expect(pingOk).toBeLessThan(400);
    // Refused by the node's bucket or, earlier, by the signaling function's per-connection window.
    const refusedPing = pings.find((r) => !r.ok)!.error!;
    expect(refusedPing.code).toBe(1303);
    expect(refusedPing.message).toMatch(/messagesPerSecond/);
    console.info(
      `limits: publish ${ok.length} ok, ${refused.filter((r) => /producers/.test(r.error!.message)).length} over the producer cap, ` +
        `${refused.filter((r) => /messagesPerSecond/.test(r.error!.message)).length} over the message rate; ` +
        `texts ${delivered.length}/200 delivered; pings ${pingOk}/400 answered ok`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect((await mallory.request('ping', {})).ok).toBe(true);
    await expectEveryoneReceivesNow([a, b]);

    // Leaving drops the connection's buckets.
    mallory.ws.close();
    const gone = await eventually(
      async () => room.peer(login.data.participant.id),
      (p) => p === undefined,
    );
    expect(gone).toBeUndefined();
    await a.page.context().close();
    await b.page.context().close();
  });

  it('a viewer gets no send transport and may not publish data', async () => {
    const viewer = await rawClient(
      suite.target.url,
      await suite.target.token('limits-viewer', 'vera', 'viewer'),
    );
    const login = await viewer.request('login', {});
    expect(login.ok).toBe(true);
    expect(Object.keys(login.data.transports)).toEqual(['recv']);
    const data = await viewer.request('data.publish', {
      transportId: login.data.transports.recv!.id,
      sctpStreamParameters: { streamId: 1 },
      label: 'sneaky',
    });
    expect(data.error).toEqual({ code: 1102, message: 'role viewer may not publish data' });
    viewer.ws.close();
  });
});
