// A room spanning two media nodes in one process: two pools of real workers, two room
// registries and their cascades, talking over the in-process command bus through each node's
// command processor, as they do over SQS. Media crosses for real: RTP sent into a producer on
// one node comes out of a consumer on the other (DirectTransports stand in for the browsers).
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cascades } from '../../../media-node/cascade/Cascades.ts';
import { CommandProcessor } from '../../../media-node/commands/CommandProcessor.ts';
import type { Peer } from '../../../media-node/sfu/Peer.ts';
import type { Room } from '../../../media-node/sfu/Room.ts';
import { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { MemoryCommandLedger } from '../../../shared/adapters/memory/MemoryCommandLedger.ts';
import { MemoryCommandQueue } from '../../../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryRoomNodes } from '../../../shared/adapters/memory/MemoryRoomNodes.ts';
import { createLogger } from '../../../shared/logger.ts';
import { opus, roomsWithInbox, vp8 } from '../../harness/rooms.ts';

const logger = createLogger({ level: 'warn' });
const ROOM = 'svc/span';

/** One media node: its workers, rooms, cascades and command processor on the shared bus. */
async function mediaNode(id: string, bus: MemoryCommandQueue, roomNodes: MemoryRoomNodes) {
  const pool = await WorkerPool.create({ size: 1, logger, respawn: false });
  const rtc = { listenIp: '127.0.0.1', emptyRoomGraceMs: 60_000 };
  const node = roomsWithInbox(pool, rtc, logger);
  await node.rooms.start();
  const cascades = new Cascades({ nodeId: id, rooms: node.rooms, roomNodes, bus, rtc, logger });
  const processor = new CommandProcessor({
    nodeId: id,
    queue: bus,
    ledger: new MemoryCommandLedger(),
    logger,
    // The node's other commands are not this test's; the cascade's are routed as handlers.ts does.
    handle: async (c) => {
      if (c.type.startsWith('pipe.') || c.type === 'room.relay' || c.type === 'room.text')
        await cascades.handle(c as Parameters<Cascades['handle']>[0]);
    },
  });
  await bus.open(id);
  processor.start();
  return {
    ...node,
    cascades,
    async close() {
      node.rooms.close();
      await cascades.close();
      await processor.stop();
      pool.close();
    },
  };
}

/** A participant's media path without a browser: a DirectTransport lets the test send and read RTP. */
async function directTransport(room: Room, peer: Peer, direction: 'send' | 'recv') {
  const transport = await room.router.createDirectTransport({
    maxMessageSize: 262_144,
    appData: { peerId: peer.info.id, direction },
  });
  peer.transports.set(transport.id, transport as unknown as types.WebRtcTransport);
  return transport;
}

const rtpPacket = (seq: number, ssrc: number): Buffer => {
  const packet = Buffer.alloc(12 + 40, 0xab);
  packet[0] = 0x80;
  packet[1] = 111;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 960) >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
};

async function eventually<T>(what: string, read: () => T | Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a room cascaded across two media nodes', () => {
  const bus = new MemoryCommandQueue();
  const roomNodes = new MemoryRoomNodes();
  let a: Awaited<ReturnType<typeof mediaNode>>;
  let b: Awaited<ReturnType<typeof mediaNode>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([mediaNode('node-a', bus, roomNodes), mediaNode('node-b', bus, roomNodes)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('pipes a stream from one node to the other, media included, and cleans up on pipe.leave', async () => {
    // Placement counts a participant on each node.
    await roomNodes.add(ROOM, 'node-a', 1);
    await roomNodes.add(ROOM, 'node-b', 1);
    const roomA = await a.rooms.open(ROOM);
    const ana = await a.join(roomA, 'ana');
    const send = await directTransport(roomA, ana, 'send');
    const producer = await roomA.publish(ana, send.id, 'audio', opus(4242), 'mic');

    const roomB = await b.rooms.open(ROOM);
    const ben = await b.join(roomB, 'ben');
    // Ana's stream and Ana herself arrive on node B; Ben hears of both.
    await eventually(
      'the piped stream',
      () => roomB.streams().map((s) => s.id),
      (ids) => ids.includes(producer.id),
    );
    expect(roomB.streams().find((s) => s.id === producer.id)).toMatchObject({ owner: 'ana', kind: 'audio' });
    await eventually(
      'ana on node B',
      () => roomB.participants().map((p) => p.id),
      (ids) => ids.includes('ana'),
    );
    expect(b.sent('ben')).toContainEqual({
      event: 'stream',
      data: { status: 'add', stream: expect.objectContaining({ id: producer.id }) },
    });
    // And the other way: Ben is known on node A.
    await eventually(
      'ben on node A',
      () => roomA.participants().map((p) => p.id),
      (ids) => ids.includes('ben'),
    );

    // RTP sent into Ana's producer on node A comes out of Ben's consumer on node B.
    await directTransport(roomB, ben, 'recv');
    ben.rtpCapabilities = roomB.router.rtpCapabilities;
    const consumer = await roomB.subscribe(ben, producer.id);
    expect([...ben.consumers.keys()]).toEqual([consumer.id]);
    const received: Buffer[] = [];
    consumer.on('rtp', (packet) => received.push(packet));
    await consumer.resume();
    let seq = 0;
    const sending = setInterval(() => producer.send(rtpPacket(seq++, 4242)), 20);
    try {
      await eventually(
        'RTP across the nodes',
        () => received.length,
        (n) => n >= 20,
      );
    } finally {
      clearInterval(sending);
    }
    expect(received[0]!.readUInt32BE(8)).toBe(consumer.rtpParameters.encodings![0]!.ssrc);
    expect(a.cascades.pipes).toBeGreaterThan(0);
    expect(b.cascades.pipes).toBeGreaterThan(0);

    // Node A's part of the room closes: node B hears pipe.leave and drops all it held of A.
    const closed = new Promise((resolve) => consumer.observer.once('close', () => resolve(true)));
    roomA.close();
    expect(await closed).toBe(true);
    await eventually(
      'node B forgetting node A',
      () => ({
        streams: roomB.streams().length,
        people: roomB.participants().map((p) => p.id),
        pipes: b.cascades.pipes,
      }),
      (s) => s.streams === 0 && s.pipes === 0 && !s.people.includes('ana'),
    );
    expect(b.sent('ben')).toEqual(
      expect.arrayContaining([
        { event: 'stream', data: { status: 'remove', stream: expect.objectContaining({ id: producer.id }) } },
        {
          event: 'participant',
          data: { action: 'leave', participant: expect.objectContaining({ id: 'ana' }) },
        },
      ]),
    );
    expect(a.cascades.pipes).toBe(0);
    // Node B serves on: a stream of Ben's is still his room's.
    await roomNodes.add(ROOM, 'node-a', -1);
    const benSend = await roomB.createTransport(ben, 'send');
    await roomB.publish(ben, benSend.id, 'video', vp8(5151), 'camera');
    expect(roomB.streams()).toHaveLength(1);
  });
});
