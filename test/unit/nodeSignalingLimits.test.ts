import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Peer, type PeerInfo, type PeerLimits } from '../../media-node/sfu/Peer.ts';
import type { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { NodeSignaling } from '../../media-node/signaling/NodeSignaling.ts';
import { LimitError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import type { ServerMessage, SignalingResponse } from '../../shared/protocol/signaling.ts';

const presenter: PeerInfo = {
  id: 'p1',
  user: 'ana',
  role: 'presenter',
  permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
};

/**
 * Just enough of a room for signaling: peers join and leave (with `peerleft`), transports are
 * stand-ins. The media side is exercised by test/e2e/limits.test.ts.
 */
class FakeRoom extends EventEmitter {
  readonly id = 'room';
  readonly router = { rtpCapabilities: {} };
  readonly #peers = new Map<string, Peer>();
  transports: string[] = [];
  peer = (id: string) => this.#peers.get(id);
  async join(info: PeerInfo, connectionId: string) {
    const previous = this.#peers.get(info.id);
    if (previous) this.leave(info.id);
    const peer = new Peer(info, connectionId);
    this.#peers.set(info.id, peer);
    return peer;
  }
  leave(id: string) {
    const peer = this.#peers.get(id);
    this.#peers.delete(id);
    if (peer) this.emit('peerleft', peer);
  }
  async createTransport(_peer: Peer, direction: string) {
    this.transports.push(direction);
    return { id: direction, iceParameters: {}, iceCandidates: [], dtlsParameters: {}, sctpParameters: {} };
  }
  streams = () => [];
  participants = () => [];
  broadcast() {}
  async text() {}
  loginAnswered() {}
}

function setUp(limits = { messagesPerSecond: 50, textsPerSecond: 5, loginsPerParticipantPerMinute: 30 }) {
  let t = 0;
  const registry = new EventEmitter() as EventEmitter & {
    get(id: string): FakeRoom;
    open(id: string): Promise<FakeRoom>;
  };
  const room = new FakeRoom();
  registry.get = () => room;
  registry.open = async () => room;
  const answers: SignalingResponse[] = [];
  const gateway = {
    post: async (_c: string, m: ServerMessage) => {
      if ('id' in m) answers.push(m);
      return true;
    },
    disconnect: async () => {},
  };
  const signaling = new NodeSignaling(
    registry as unknown as RoomRegistry,
    gateway,
    createLogger({ write: () => {} }),
    limits,
    { now: () => t },
  );
  registry.emit('roomcreated', room);
  let n = 0;
  const send = async (method: string, params: unknown = {}, connectionId = 'c1', info = presenter) => {
    const id = ++n;
    await signaling.handle({
      id: `cmd${id}`,
      type: 'signal',
      issuedAt: new Date(0).toISOString(),
      roomId: 'room',
      connectionId,
      participant: info,
      request: { id, method: method as 'ping', params },
    });
    return answers.find((a) => a.id === id)!;
  };
  return { signaling, room, send, advance: (ms: number) => (t += ms) };
}

const codes = (answers: SignalingResponse[]) => answers.map((a) => (a.ok ? 'ok' : a.error!.code));

describe('NodeSignaling rate limits', () => {
  it('messages: a burst of 2 × rate per connection, then 1303 naming the limit; other connections unaffected', async () => {
    const { send, advance } = setUp();
    expect((await send('login')).ok).toBe(true);
    const burst = [];
    for (let i = 0; i < 150; i++) burst.push(await send('ping'));
    expect(codes(burst).filter((c) => c === 'ok')).toHaveLength(99); // 100 tokens, login took one
    expect(burst.at(-1)!.error!.message).toMatch(
      /messagesPerSecond: at most 50 signaling messages per second/,
    );
    expect(new Set(codes(burst.slice(99)))).toEqual(new Set([1303]));
    // Another participant's connection has its own bucket.
    expect((await send('login', {}, 'c2', { ...presenter, id: 'p2' })).ok).toBe(true);
    advance(1000);
    const after = [];
    for (let i = 0; i < 60; i++) after.push(await send('ping'));
    expect(codes(after).filter((c) => c === 'ok')).toHaveLength(50);
  });

  it('texts: 2 × textsPerSecond at once, then 1303; pings still pass', async () => {
    const { send } = setUp();
    await send('login');
    const texts = [];
    for (let i = 0; i < 30; i++) texts.push(await send('text', { to: 'all', message: `m${i}` }));
    expect(codes(texts).filter((c) => c === 'ok')).toHaveLength(10);
    expect(texts.at(-1)!.error).toEqual({
      code: 1303,
      message: 'rate limit textsPerSecond: at most 5 text messages per second per connection',
    });
    expect((await send('ping')).ok).toBe(true);
  });

  it('logins: per participant across connections; a new connection does not reset it', async () => {
    const { send, advance } = setUp();
    const logins = [];
    for (let i = 0; i < 40; i++) logins.push(await send('login', {}, `conn-${i}`));
    expect(codes(logins).filter((c) => c === 'ok')).toHaveLength(30);
    expect(logins.at(-1)!.error!.message).toMatch(/loginsPerParticipantPerMinute: at most 30 logins/);
    advance(2000); // 30 per minute: one more every 2 s
    expect((await send('login', {}, 'conn-x')).ok).toBe(true);
    expect((await send('login', {}, 'conn-y')).ok).toBe(false);
  });

  it('a connection re-logging in keeps its message bucket; leaving drops it (bounded memory)', async () => {
    const { signaling, room, send } = setUp();
    await send('login');
    for (let i = 0; i < 98; i++) await send('ping');
    expect((await send('login')).ok).toBe(true); // the 100th token
    expect((await send('ping')).ok).toBe(false);
    expect(signaling.rateLimitKeys).toBe(1);
    room.leave('p1');
    expect(signaling.rateLimitKeys).toBe(0);
  });

  it('viewers get no send transport; a subscribe-nothing role gets no receive transport', async () => {
    const { room, send } = setUp();
    const viewer = {
      ...presenter,
      id: 'v',
      role: 'viewer',
      permission: { publish: { audio: false, video: false }, subscribe: { audio: true, video: true } },
    };
    const answer = await send('login', {}, 'cv', viewer);
    expect(Object.keys((answer.data as { transports: object }).transports)).toEqual(['recv']);
    const mute = {
      ...viewer,
      id: 'm',
      permission: { publish: false as const, subscribe: { audio: false, video: false } },
    };
    const none = await send('login', {}, 'cm', mute);
    expect((none.data as { transports: object }).transports).toEqual({});
    expect(room.transports).toEqual(['recv']);
  });
});

describe('Peer caps', () => {
  const limits: PeerLimits = {
    producersPerParticipant: 2,
    dataProducersPerParticipant: 1,
    consumersPerParticipant: 3,
  };
  it('counts objects being created, and frees the slot when creation ends', () => {
    const peer = new Peer(presenter, 'c');
    const a = peer.reserve('producers', limits);
    const b = peer.reserve('producers', limits);
    expect(() => peer.reserve('producers', limits)).toThrow(LimitError);
    expect(() => peer.reserve('producers', limits)).toThrow(
      'limit producersPerParticipant reached: at most 2 audio/video streams per participant',
    );
    a();
    a(); // releasing twice frees one slot only
    const c = peer.reserve('producers', limits);
    expect(() => peer.reserve('producers', limits)).toThrow(LimitError);
    b();
    c();
    expect(() => peer.reserve('dataProducers', limits)).not.toThrow();
    expect(() => peer.reserve('dataProducers', limits)).toThrow(/dataProducersPerParticipant/);
  });

  it('consumers count media and data subscriptions together', () => {
    const peer = new Peer(presenter, 'c');
    peer.consumers.set('x', { producerId: 'p' } as never);
    peer.dataConsumers.set('y', { dataProducerId: 'd' } as never);
    peer.reserve('consumers', limits);
    expect(() => peer.reserve('consumers', limits)).toThrow(
      /consumersPerParticipant reached: at most 3 subscriptions/,
    );
    expect(peer.consumerOf('p')).toBeDefined();
    expect(peer.consumerOf('d')).toBeDefined();
    expect(peer.consumerOf('q')).toBeUndefined();
  });

  it.each([
    [{ audio: true, video: false }, true],
    [{ audio: false, video: true }, true],
    [{ audio: false, video: false }, false],
    [false as const, false],
  ])('publish %o → may publish something (data too): %s', (publish, expected) => {
    const peer = new Peer({ ...presenter, permission: { publish, subscribe: publish } }, 'c');
    expect(peer.mayPublishAny()).toBe(expected);
    expect(peer.maySubscribeAny()).toBe(expected);
  });
});

describe('NodeSignaling and closed connections', () => {
  it('a login that arrives after its connection was reported closed makes no peer', async () => {
    const { signaling, room, send, advance } = setUp();
    // The queue reordered them: connection.closed for c9 came first.
    signaling.closedBeforeLogin('c9');
    const late = await send('login', {}, 'c9', { ...presenter, id: 'p9' });
    expect([late.ok, late.error?.code]).toEqual([false, 1101]);
    expect(room.peer('p9')).toBeUndefined();
    // Other connections are unaffected, and the mark expires with the stale-signal window.
    expect((await send('login', {}, 'c1')).ok).toBe(true);
    advance(3 * 60_000);
    expect((await send('login', {}, 'c9', { ...presenter, id: 'p9' })).ok).toBe(true);
  });
});
