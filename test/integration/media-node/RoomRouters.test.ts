// A room's routers on real mediasoup workers, without a browser (in the style of mediasoup's
// test-Router.ts): transports are created but never connected; producers, pipes and consumers
// exist all the same, and the routers' dumps show where each one lives.
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerMediaCodecs } from '../../../media-node/codecs/routerCodecs.ts';
import { RoomRouters, type RouterSlot } from '../../../media-node/sfu/RoomRouters.ts';
import { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { roomsWithInbox, vp8 } from '../../harness/rooms.ts';

const logger = createLogger({ level: 'warn' });
const video = vp8;

const producerIds = async (router: types.Router) =>
  (await router.dump()).mapProducerIdConsumerIds.map((entry) => entry.key);

describe('RoomRouters on two workers', () => {
  let pool: WorkerPool;
  const slots: RouterSlot[] = [];

  beforeAll(async () => {
    pool = await WorkerPool.create({ size: 2, logger, respawn: false });
  });
  afterAll(() => pool?.close());

  const slotOn = async (worker: types.Worker): Promise<RouterSlot> => {
    const slot = {
      worker,
      router: await worker.createRouter({ mediaCodecs: routerMediaCodecs }),
      webRtcServer: await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] }),
    };
    slots.push(slot);
    return slot;
  };

  it('grows onto an unused worker when its routers are full, then shares the least full', async () => {
    const asked: types.Worker[][] = [];
    const routers = new RoomRouters(await slotOn(pool.workers[0]!), {
      peersPerRouter: 2,
      growOnto: async (used) => {
        asked.push(used);
        const free = pool.workers.find((w) => !used.includes(w));
        return free && slotOn(free);
      },
    });
    expect(await routers.assign('a')).toBeUndefined();
    expect(await routers.assign('b')).toBeUndefined();
    const grown = await routers.assign('c');
    expect(grown?.worker).toBe(pool.workers[1]);
    expect(asked).toEqual([[pool.workers[0]]]);
    expect(routers.of('c')).toBe(grown);
    expect(routers.of('a').router).toBe(routers.primary);
    expect(routers.all.map((s) => s.worker.pid)).toEqual(pool.workers.map((w) => w.pid));

    await routers.assign('d');
    // Both full and no worker left: the least full router takes the next one, no new router.
    expect(await routers.assign('e')).toBeUndefined();
    expect(routers.all).toHaveLength(2);
    expect(asked).toHaveLength(2);

    // A participant that leaves frees its place for the next.
    routers.release('a');
    routers.release('e');
    expect(await routers.assign('f')).toBeUndefined();
    expect(routers.of('f').router).toBe(routers.primary);
    // Someone never assigned is on the primary.
    expect(routers.of('nobody').router).toBe(routers.primary);
    routers.close();
    expect(routers.all.every((s) => s.router.closed)).toBe(true);
  });

  it('pipes a stream to another router once, however many ask at once', async () => {
    const [first, second] = [await slotOn(pool.workers[0]!), await slotOn(pool.workers[1]!)];
    const routers = new RoomRouters(first, { peersPerRouter: 1, growOnto: async () => second });
    await routers.assign('a');
    await routers.assign('b');
    const send = await first.router.createWebRtcTransport({ webRtcServer: first.webRtcServer });
    const producer = await send.produce({ kind: 'video', rtpParameters: video(1111) });

    await Promise.all([1, 2, 3].map(() => routers.pipe(producer.id, first.router, second.router)));
    await routers.pipe(producer.id, first.router, second.router);
    await routers.pipe(producer.id, first.router, first.router); // already there: nothing to do
    // The stream now lives on both routers, with one pipe consumer on its own.
    expect(await producerIds(second.router)).toEqual([producer.id]);
    const dump = await first.router.dump();
    expect(dump.mapProducerIdConsumerIds).toEqual([{ key: producer.id, values: [expect.any(String)] }]);
    expect(dump.transportIds).toHaveLength(2); // the WebRTC transport and one pipe

    // A subscriber on the second router consumes the piped stream.
    const recv = await second.router.createWebRtcTransport({ webRtcServer: second.webRtcServer });
    const consumer = await recv.consume({
      producerId: producer.id,
      rtpCapabilities: second.router.rtpCapabilities,
      paused: true,
    });
    expect(consumer.kind).toBe('video');
    expect(consumer.rtpParameters.codecs[0]?.mimeType).toBe('video/VP8');

    // Closing the source closes its pipe and what was consumed from it.
    const closed = new Promise((resolve) => consumer.observer.once('close', () => resolve(true)));
    producer.close();
    expect(await closed).toBe(true);
    expect(await producerIds(second.router)).toEqual([]);
    routers.close();
  });

  it('a failed pipe may be tried again', async () => {
    const [first, second] = [await slotOn(pool.workers[0]!), await slotOn(pool.workers[1]!)];
    const routers = new RoomRouters(first, { peersPerRouter: 0 });
    await expect(routers.pipe('no-such-producer', first.router, second.router)).rejects.toThrow();
    const send = await first.router.createWebRtcTransport({ webRtcServer: first.webRtcServer });
    const producer = await send.produce({ kind: 'video', rtpParameters: video(2222) });
    await routers.pipe(producer.id, first.router, second.router);
    expect(await producerIds(second.router)).toEqual([producer.id]);
    routers.close();
  });
});

describe('a room growing across the workers of its node', () => {
  let pool: WorkerPool;
  let node: ReturnType<typeof roomsWithInbox>;
  /** Every router made, with its worker (mediasoup's observer API). */
  const routers: { worker: types.Worker; router: types.Router }[] = [];

  beforeAll(async () => {
    pool = await WorkerPool.create({ size: 2, logger, respawn: false });
    for (const worker of pool.workers)
      worker.observer.on('newrouter', (router) => routers.push({ worker, router }));
    node = roomsWithInbox(pool, { listenIp: '127.0.0.1', peersPerWorker: 1, emptyRoomGraceMs: 300 }, logger);
    await node.rooms.start();
  });
  afterAll(() => {
    node?.rooms.close();
    pool?.close();
  });

  it('puts the second participant on another worker, pipes the first one`s stream there, and releases both routers when the room empties', async () => {
    const room = await node.rooms.open('grow');
    const ana = await node.join(room, 'ana');
    expect(room.workers).toHaveLength(1);
    const ben = await node.join(room, 'ben');
    expect(room.workers.map((w) => w.pid).sort()).toEqual(pool.workers.map((w) => w.pid).sort());

    const send = await room.createTransport(ana, 'send');
    const producer = await room.publish(ana, send.id, 'video', video(3333), 'camera');
    const recv = await room.createTransport(ben, 'recv');
    ben.rtpCapabilities = room.router.rtpCapabilities;
    const consumer = await room.subscribe(ben, producer.id);
    expect(consumer.producerId).toBe(producer.id);
    expect(node.sent('ben')).toContainEqual({
      event: 'stream',
      data: { status: 'add', stream: expect.objectContaining({ id: producer.id, owner: 'ana' }) },
    });
    // Ben's transport lives on the other worker's router, where the stream was piped.
    const otherRouter = routers.find(
      (r) => r.worker === room.workers[1] && r.router.appData.roomId === 'grow',
    )!.router;
    expect((await otherRouter.dump()).transportIds).toContain(recv.id);
    expect(await producerIds(otherRouter)).toEqual([producer.id]);

    // Ana leaves: her stream goes from both routers, and Ben hears it.
    const consumerClosed = new Promise((resolve) => consumer.observer.once('close', () => resolve(true)));
    room.leave('ana');
    expect(await consumerClosed).toBe(true);
    expect(await producerIds(otherRouter)).toEqual([]);
    expect(node.sent('ben')).toContainEqual({
      event: 'stream',
      data: { status: 'remove', stream: expect.objectContaining({ id: producer.id }) },
    });

    // A newcomer takes Ana's freed place on the primary router: the room does not grow again.
    const cleo = await node.join(room, 'cleo');
    expect(room.workers).toHaveLength(2);
    const cleoTransport = await room.createTransport(cleo, 'send');
    expect((await room.router.dump()).transportIds).toContain(cleoTransport.id);

    // Empty for the grace period: the room closes and both routers with it.
    const closed = new Promise((resolve) => node.rooms.once('roomclosed', resolve));
    room.leave('ben');
    room.leave('cleo');
    expect(await closed).toBe(room);
    expect([room.router.closed, otherRouter.closed]).toEqual([true, true]);
    expect(node.rooms.get('grow')).toBeUndefined();
  });
});
