// Room on a real mediasoup worker, without a browser (in the style of mediasoup's test-Router.ts):
// transports are created but never connected; producers and consumers exist all the same.
import type { types } from 'mediasoup';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ParticipantSink } from '../../../media-node/sfu/ParticipantSink.ts';
import type { PeerInfo } from '../../../media-node/sfu/Peer.ts';
import { Room } from '../../../media-node/sfu/Room.ts';
import { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { ErrorCodes } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/logger.ts';
import type { ServerEvent } from '../../../shared/protocol/signaling.ts';

/** A sink that keeps what it is given (the room's only way to reach a participant). */
class RecordingSink implements ParticipantSink {
  readonly events: ServerEvent[] = [];
  closed: string | undefined;
  async post(event: ServerEvent): Promise<boolean> {
    this.events.push(event);
    return this.closed === undefined;
  }
  async close(reason = ''): Promise<void> {
    this.closed ??= reason;
  }
  /** The events as `<event>:<detail>` lines. */
  get lines(): string[] {
    return this.events.map((e) => {
      if (e.event === 'participant') return `participant:${e.data.action}:${e.data.participant.user}`;
      if (e.event === 'stream')
        return `stream:${e.data.status}:${e.data.stream.id}${e.data.stream.paused ? ':paused' : ''}`;
      if (e.event === 'drop') return `drop:${e.data.reason}`;
      if (e.event === 'progress') return `progress:${e.data.status}`;
      return e.event;
    });
  }
}

const everything = { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } };
const info = (id: string): PeerInfo => ({
  id,
  user: id,
  role: 'presenter',
  permission: structuredClone(everything),
});
const limits = { producersPerParticipant: 8, dataProducersPerParticipant: 4, consumersPerParticipant: 32 };

const video = (ssrc: number): types.RtpParameters => ({
  mid: 'v',
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});
const audio = (ssrc: number): types.RtpParameters => ({
  mid: 'a',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});

/** Lets the room's unawaited posts land. */
const settle = () => new Promise((r) => setTimeout(r, 20));

let pool: WorkerPool;
let webRtcServer: types.WebRtcServer;
let room: Room;

beforeAll(async () => {
  pool = await WorkerPool.create({ size: 1, respawn: false, logger: createLogger({ level: 'warn' }) });
  webRtcServer = await pool.workers[0]!.createWebRtcServer({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
  });
});
afterAll(() => pool?.close());

beforeEach(async () => {
  room = await Room.create({ id: 'svc~room', worker: pool.workers[0]!, webRtcServer, limits });
});
afterEach(() => room.close());

/** A participant who has logged in (its held events released) with send and receive transports. */
async function joined(id: string) {
  const sink = new RecordingSink();
  const peer = await room.join(info(id), `conn-${id}`, sink);
  peer.rtpCapabilities = room.router.rtpCapabilities;
  const send = await room.createTransport(peer, 'send');
  await room.createTransport(peer, 'recv');
  room.loginAnswered(id);
  return { peer, sink, send };
}

describe('Room on a real worker', () => {
  it('join and leave: the others hear of each through their sinks; the participant list follows', async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    await settle();
    expect(a.sink.lines).toEqual(['participant:join:ben']);
    expect(room.participants().map((p) => p.user)).toEqual(['ana', 'ben']);
    room.leave('ben');
    await settle();
    expect(a.sink.lines).toEqual(['participant:join:ben', 'participant:leave:ben']);
    expect(b.peer.closed).toBe(true);
    expect([...b.peer.transports.values()].every((t) => t.closed)).toBe(true);
    expect(room.participants().map((p) => p.user)).toEqual(['ana']);
  });

  it("a peer's events wait for its login answer, in order; a resume swaps its sink", async () => {
    const a = await joined('ana');
    const sink = new RecordingSink();
    const ben = await room.join(info('ben'), 'conn-ben', sink);
    const producer = await room.publish(a.peer, a.send.id, 'video', video(1111), 'camera');
    await settle();
    expect(sink.events).toEqual([]);
    room.loginAnswered('ben');
    await settle();
    expect(sink.lines).toEqual([`stream:add:${producer.id}`]);

    const resumed = new RecordingSink();
    const replaced = ben.attach('conn-ben-2', resumed);
    expect(replaced).toBe(sink);
    expect(ben.connectionId).toBe('conn-ben-2');
    room.unpublish(a.peer, producer.id);
    await settle();
    expect(resumed.lines).toEqual([`stream:remove:${producer.id}`]);
    expect(sink.lines).toEqual([`stream:add:${producer.id}`]);
  });

  it('publish and subscribe: a paused consumer of the stream, closed with it', async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    const producer = await room.publish(a.peer, a.send.id, 'video', video(2222), 'camera');
    expect(room.streams()).toEqual([
      // A lone track is a publication of its own, named by the track.
      {
        id: producer.id,
        owner: 'ana',
        kind: 'video',
        source: 'camera',
        paused: false,
        publication: producer.id,
      },
    ]);
    const consumer = await room.subscribe(b.peer, producer.id);
    expect(consumer.producerId).toBe(producer.id);
    expect(consumer.paused).toBe(true);
    expect(b.peer.consumers.get(consumer.id)).toBe(consumer);
    // One subscription per stream and participant.
    await expect(room.subscribe(b.peer, producer.id)).rejects.toMatchObject({
      code: ErrorCodes.limitExceeded,
    });
    room.unpublish(a.peer, producer.id);
    await settle();
    expect(consumer.closed).toBe(true);
    expect(b.sink.lines).toContain('progress:consumerClosed');
    expect(room.consumerGone(b.peer, consumer.id)).toBe(true);
  });

  it("pauseStream pauses the stream's producer, tells the others, and ignores a stream it does not hold", async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    const producer = await room.publish(a.peer, a.send.id, 'video', video(3333), 'camera');
    await settle();
    expect(await room.pauseStream(producer.id, 'video', true)).toBe(true);
    expect(producer.paused).toBe(true);
    // Another kind of the same stream: not this producer.
    expect(await room.pauseStream(producer.id, 'audio', false)).toBe(true);
    expect(producer.paused).toBe(true);
    expect(await room.pauseStream(producer.id, undefined, false)).toBe(true);
    expect(producer.paused).toBe(false);
    expect(await room.pauseStream('no-such-stream', 'video', true)).toBe(false);
    await settle();
    expect(b.sink.lines).toEqual([
      `stream:add:${producer.id}`,
      `stream:update:${producer.id}:paused`,
      `stream:update:${producer.id}`,
    ]);
    // The owner is not told of its own stream's state.
    expect(a.sink.lines.filter((l) => l.startsWith('stream:'))).toEqual([]);
  });

  it('setPermission stops at once what the new permission no longer allows', async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    const cam = await room.publish(a.peer, a.send.id, 'video', video(4444), 'camera');
    const mic = await room.publish(a.peer, a.send.id, 'audio', audio(4445), 'mic');
    const data = await room.publishData(a.peer, a.send.id, { streamId: 1, ordered: true }, 'chat', '');
    const seeCam = await room.subscribe(b.peer, cam.id);
    const hearMic = await room.subscribe(b.peer, mic.id);

    // Ana may no longer publish video: her camera goes, her microphone and data channel stay.
    expect(
      room.setPermission('ana', { publish: { audio: true, video: false }, subscribe: everything.subscribe }),
    ).toBe(true);
    expect(cam.closed).toBe(true);
    expect(mic.closed).toBe(false);
    expect(data.closed).toBe(false);
    expect(room.streams().map((s) => s.id)).toEqual([mic.id, data.id]);
    // No publishing at all: data channels need some publish permission.
    room.setPermission('ana', { publish: false, subscribe: everything.subscribe });
    expect(mic.closed).toBe(true);
    expect(data.closed).toBe(true);
    expect(room.streams()).toEqual([]);
    await settle();
    expect(seeCam.closed && hearMic.closed).toBe(true);

    // Ben may no longer receive audio: his audio consumers close, new subscriptions are refused.
    const again = await room.publish(b.peer, b.send.id, 'audio', audio(4446), 'mic');
    const cy = await joined('cy');
    const cyHears = await room.subscribe(cy.peer, again.id);
    room.setPermission('cy', { publish: everything.publish, subscribe: { audio: false, video: true } });
    expect(cyHears.closed).toBe(true);
    await expect(room.subscribe(cy.peer, again.id)).rejects.toMatchObject({
      code: ErrorCodes.permissionDenied,
    });
    expect(room.setPermission('nobody', everything)).toBe(false);
  });

  it('removeStream removes a stream published here; drop tells, removes and cuts off a participant', async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    const cam = await room.publish(b.peer, b.send.id, 'video', video(5555), 'camera');
    expect(room.removeStream(cam.id)).toBe(true);
    expect(cam.closed).toBe(true);
    expect(room.removeStream(cam.id)).toBe(false);

    expect(await room.drop('ben', 'dropped by the room owner')).toBe(true);
    await settle();
    expect(b.sink.lines.at(-1)).toBe('drop:dropped by the room owner');
    expect(b.sink.closed).toBe('dropped by the room owner');
    expect(b.peer.closed).toBe(true);
    expect(room.peer('ben')).toBeUndefined();
    expect(a.sink.lines).toContain('participant:leave:ben');
    expect(await room.drop('ben')).toBe(false);
    expect(a.sink.closed).toBeUndefined();
  });

  it('end: everyone is told and cut off, and the room closes with its routers and transports, once', async () => {
    const a = await joined('ana');
    const b = await joined('ben');
    const cam = await room.publish(a.peer, a.send.id, 'video', video(6666), 'camera');
    const consumer = await room.subscribe(b.peer, cam.id);
    let closes = 0;
    room.on('close', () => closes++);
    const router = room.router;
    await room.end('room deleted');
    await settle();
    for (const { sink } of [a, b]) {
      expect(sink.lines.at(-1)).toBe('drop:room deleted');
      expect(sink.closed).toBe('room deleted');
    }
    expect(router.closed).toBe(true);
    expect(cam.closed && consumer.closed).toBe(true);
    expect([...a.peer.transports.values(), ...b.peer.transports.values()].every((t) => t.closed)).toBe(true);
    expect(room.closed).toBe(true);
    expect(room.peers.size).toBe(0);
    room.close();
    await room.end();
    expect(closes).toBe(1);
  });

  it('a closed router (as when its worker dies) closes the room', async () => {
    await joined('ana');
    const closed = new Promise<void>((resolve) => room.once('close', () => resolve()));
    room.router.close();
    await closed;
    expect(room.closed).toBe(true);
  });
});
