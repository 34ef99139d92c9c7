import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

const FUZZ_MESSAGES = 2500;

describe('robustness on the embedded server', () => {
  const suite = browserSuite(() => startEmbedded());

  const joinPeer = async (room: string, user: string) => {
    const page = await openPeer(suite.browser, suite.pages);
    const joined = await page.evaluate(([u, t]) => window.peer.join(u, t, {}), [
      suite.target.url,
      await suite.target.token(room, user),
    ] as const);
    return { page, ...joined };
  };
  const videoFrames = async (page: Page) =>
    (await page.evaluate(() => window.peer.received()))
      .filter((s) => s.kind === 'video')
      .map((s) => s.framesDecoded);

  it('every command delivered twice changes nothing visible', async () => {
    const queue = suite.target.system.commands as MemoryCommandQueue;
    const send = queue.send.bind(queue);
    queue.send = async (nodeId: string, command: NodeCommand) => {
      await send(nodeId, command);
      await send(nodeId, command); // SQS may deliver any message more than once
    };
    try {
      const a = await joinPeer('twice', 'ana');
      const b = await joinPeer('twice', 'ben');
      for (const [page, other] of [
        [a.page, b.id],
        [b.page, a.id],
      ] as const) {
        const got = await eventually(
          () => page.evaluate(() => window.peer.received()),
          (r) => r.filter((s) => s.owner === other && s.framesDecoded + s.audioEnergy > 0).length === 2,
        );
        // Exactly one audio and one video stream from the other, no duplicates anywhere.
        expect(got.map((s) => `${s.owner}:${s.kind}`).sort()).toEqual([`${other}:audio`, `${other}:video`]);
        expect(await page.evaluate(() => window.peer.streams())).toHaveLength(2);
      }
      expect(await a.page.evaluate(() => window.peer.events())).toEqual(['join:ben']);
      const room = suite.target.system.mediaNode.rooms.get(roomKey('super', 'twice'))!;
      expect(room.streams()).toHaveLength(4);
      expect([...room.peers.values()].map((p) => p.producers.size)).toEqual([2, 2]);
      await a.page.context().close();
      await b.page.context().close();
    } finally {
      queue.send = send;
    }
  });

  it('a malformed command goes to the dead-letter path with a logged reason, and the node keeps serving', async () => {
    const queue = suite.target.system.commands as MemoryCommandQueue;
    const node = suite.target.system.mediaNode.id;
    await queue.sendRaw(node, '{"not json');
    await queue.sendRaw(node, JSON.stringify({ id: 'x', type: 'participant.drop', roomId: 'r' }));
    const dead = await eventually(
      async () => queue.deadLetters.get(node) ?? [],
      (d) => d.length === 2,
    );
    expect(dead.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/^invalid command: .*id/),
    ]);
    expect(suite.target.logs.filter((l) => l.includes('command dead-lettered'))).toHaveLength(2);
    const a = await joinPeer('after-dlq', 'ana');
    const b = await joinPeer('after-dlq', 'ben');
    const frames = await eventually(
      () => videoFrames(b.page),
      (f) => (f[0] ?? 0) > 0,
    );
    expect(frames[0]).toBeGreaterThan(0);
    await a.page.context().close();
    await b.page.context().close();
  });

  it(`${FUZZ_MESSAGES} hostile signaling messages get error responses; nothing crashes; others' media keeps flowing`, async () => {
    const a = await joinPeer('fuzz', 'ana');
    const b = await joinPeer('fuzz', 'ben');
    await eventually(
      () => videoFrames(b.page),
      (f) => (f[0] ?? 0) > 0,
    );
    const room = suite.target.system.mediaNode.rooms.get(roomKey('super', 'fuzz'))!;
    const victim = room.peer(a.id)!;
    const victimIds = {
      transport: [...victim.transports.keys()],
      consumer: [...victim.consumers.keys()],
      producer: [...victim.producers.keys()],
    };

    // The attacker is a real participant of the same room, with a valid token.
    const ws = new WebSocket(
      `${suite.target.url.replace('http', 'ws')}/ws?token=${await suite.target.token('fuzz', 'mallory')}`,
    );
    const responses = new Map<unknown, { ok: boolean; error?: { code: number } }[]>();
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if ('event' in m) return;
      responses.set(m.id, [...(responses.get(m.id) ?? []), m]);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 'login', method: 'login', params: {} }));
    await eventually(async () => responses.has('login'), Boolean);
    expect(responses.get('login')![0]!.ok).toBe(true);

    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const other = (kind: keyof typeof victimIds) => pick(victimIds[kind].length ? victimIds[kind] : ['none']);
    const hostile: (() => { id: unknown; text: string })[] = [
      () => ({ id: null, text: pick(['{', 'null', '[]', '"x"', '{"id":', '\u0000\u0001', 'NaN']) }),
      () => ({ id: null, text: JSON.stringify({ method: 'publish', params: {} }) }),
      (i = `e${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: pick(['admin', 'eval', '__proto__', 'LOGIN', '']),
          params: {},
        }),
      }),
      (i = `p${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: pick(['publish', 'subscribe', 'transport.connect', 'text', 'data.publish']),
          params: pick([null, 1, 'x', [], { transportId: 5 }, { a: { b: { c: 1 } } }]),
        }),
      }),
      (i = `v${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: 'transport.connect',
          params: {
            transportId: other('transport'),
            dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
          },
        }),
      }),
      (i = `c${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: 'subscription.control',
          params: { consumerId: other('consumer'), operation: 'pause' },
        }),
      }),
      (i = `u${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: pick(['unpublish', 'stream.control']),
          params: { producerId: other('producer'), ...(rand() < 0.5 ? { operation: 'pause' } : {}) },
        }),
      }),
      (i = `s${rand()}`) => ({
        id: i,
        text: JSON.stringify({ id: i, method: 'subscribe', params: { producerId: `missing-${rand()}` } }),
      }),
      (i = `t${rand()}`) => ({
        id: i,
        text: JSON.stringify({ id: i, method: 'text', params: { to: `nobody-${rand()}`, message: 'hi' } }),
      }),
      (i = `b${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: 'publish',
          params: {
            transportId: 'x',
            kind: 'video',
            source: 'camera',
            rtpParameters: { codecs: Array.from({ length: 16 }, () => ({ pad: 'x'.repeat(1500) })) },
          },
        }),
      }),
      (i = `r${rand()}`) => ({
        id: i,
        text: JSON.stringify({
          id: i,
          method: 'publish',
          params: {
            transportId: 'x',
            kind: 'video',
            source: 'camera',
            rtpParameters: { codecs: [{ mimeType: 'video/NOPE', payloadType: 300 }] },
          },
        }),
      }),
    ];
    const sent: unknown[] = [];
    for (let n = 0; n < FUZZ_MESSAGES; n++) {
      const message = pick(hostile)();
      sent.push(message.id);
      ws.send(message.text);
      if (n % 250 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const withId = sent.filter((id) => id !== null);
    const answered = await eventually(
      async () => withId.filter((id) => responses.has(id)).length + (responses.get(null)?.length ?? 0),
      (count) => count >= FUZZ_MESSAGES,
      30_000,
    );
    expect(answered).toBe(FUZZ_MESSAGES);
    for (const id of withId) {
      expect(responses.get(id), String(id)).toHaveLength(1); // exactly one response per request
      expect(responses.get(id)![0]!.ok).toBe(false);
      expect(typeof responses.get(id)![0]!.error?.code).toBe('number');
    }
    expect(responses.get(null)!.every((r) => r.ok === false)).toBe(true);

    // The victim still owns everything; media keeps flowing both ways; nothing crashed.
    expect([...victim.transports.keys()]).toEqual(victimIds.transport);
    expect([...victim.producers.keys()]).toEqual(victimIds.producer);
    const [before] = await videoFrames(b.page);
    const after = await eventually(
      () => videoFrames(b.page),
      (f) => (f[0] ?? 0) > (before ?? 0) + 10,
    );
    expect(after[0]).toBeGreaterThan((before ?? 0) + 10);
    expect((await videoFrames(a.page))[0]).toBeGreaterThan(0);
    expect(suite.target.system.mediaNode.health()).toEqual({ workers: 1, workersAlive: 1 });
    expect(suite.target.logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);

    // A frame over API Gateway's 128 KiB limit closes that socket only.
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(130 * 1024));
    expect(await closed).toBe(1009);
    await a.page.context().close();
    await b.page.context().close();
  });

  it('a media worker that dies is replaced; its participants are told and rejoin by themselves', async () => {
    const a = await joinPeer('crash', 'ana');
    const b = await joinPeer('crash', 'ben');
    await eventually(
      () => videoFrames(b.page),
      (f) => (f[0] ?? 0) > 0,
    );
    const pool = suite.target.system.mediaNode.workers;
    const dead = pool.workers[0]!.pid;
    process.kill(dead, 'SIGKILL');
    for (const page of [a.page, b.page]) {
      const events = await eventually(
        () => page.evaluate(() => window.peer.events()),
        (e) => e.includes('rejoined'),
      );
      expect(events).toEqual(expect.arrayContaining(['dropped:media worker failed; rejoin', 'rejoined']));
    }
    expect(pool.workers[0]!.pid).not.toBe(dead);
    expect(suite.target.system.mediaNode.health()).toEqual({ workers: 1, workersAlive: 1 });
    // The same pages receive each other again, on the new worker.
    for (const page of [a.page, b.page]) {
      const frames = await eventually(
        () => videoFrames(page),
        (f) => f.some((n) => n > 5),
      );
      expect(frames.some((n) => n > 5)).toBe(true);
    }
    expect(suite.target.logs.some((l) => l.includes('media worker died'))).toBe(true);
    await a.page.context().close();
    await b.page.context().close();
  });
});
