import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../../shared/logger.ts';
import { routerMediaCodecs } from '../codecs/routerCodecs.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import type { PeerLimits } from './Peer.ts';
import { Room } from './Room.ts';

export interface RtcOptions {
  listenIp: string;
  announcedAddress?: string | undefined;
  /** Address other media nodes reach this one's pipe transports at (the private one in a VPC); else announcedAddress. */
  pipeAnnouncedAddress?: string | undefined;
  /** First WebRtcServer port; worker i listens on port + i (UDP and TCP). Random when absent. */
  port?: number | undefined;
  /** Participants of a room per worker before the room grows onto another worker (0: no limit). */
  peersPerWorker?: number | undefined;
  /** How long a room stays open with nobody in it (its routers and pipes are then released). */
  emptyRoomGraceMs?: number | undefined;
}

type Events = { roomcreated: [Room]; roomclosed: [Room] };

/**
 * The rooms of this node. Each room lives on the worker hosting the fewest rooms; each worker
 * has one WebRtcServer, so all its transports share one port.
 */
export class RoomRegistry extends EventEmitter<Events> {
  readonly #pool: WorkerPool;
  readonly #logger: Logger;
  readonly #rtc: RtcOptions;
  readonly #limits: PeerLimits;
  /** Each worker's WebRtcServer, registered as soon as the worker exists (rooms await it). */
  readonly #servers = new Map<types.Worker, Promise<types.WebRtcServer>>();
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();

  constructor(pool: WorkerPool, rtc: RtcOptions, logger: Logger, limits: PeerLimits) {
    super();
    this.#limits = limits;
    this.#pool = pool;
    this.#rtc = rtc;
    this.#logger = logger;
    pool.on('workerreplaced', ({ index, worker }) => {
      void this.#serverFor(worker, index).catch((error) =>
        logger.error('WebRtcServer failed', { index, error }),
      );
    });
  }

  async start(): Promise<void> {
    await Promise.all(this.#pool.workers.map((w, i) => this.#serverFor(w, i)));
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** The room, created on the least-loaded worker if this node does not host it yet. */
  async open(roomId: string): Promise<Room> {
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.closed) return existing;
    let creating = this.#creating.get(roomId);
    if (!creating) {
      creating = this.#create(roomId).finally(() => this.#creating.delete(roomId));
      this.#creating.set(roomId, creating);
    }
    return creating;
  }

  async #create(roomId: string): Promise<Room> {
    // The live worker hosting the fewest rooms.
    const load = new Map<types.Worker, number>(
      this.#pool.workers.filter((w) => !w.closed).map((w) => [w, 0]),
    );
    for (const room of this.#rooms.values()) {
      const w = workerOf(room);
      if (w && load.has(w)) load.set(w, load.get(w)! + 1);
    }
    const worker = [...load.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
    if (!worker) throw new Error('no live media worker');
    const webRtcServer = await this.#serverOf(worker);
    const room = await Room.create({
      id: roomId,
      worker,
      webRtcServer,
      limits: this.#limits,
      peersPerRouter: this.#rtc.peersPerWorker ?? 0,
      growOnto: (used) => this.#routerOnUnusedWorker(roomId, used),
    });
    roomWorkers.set(room, worker);
    this.#closeWhenEmpty(room);
    this.#rooms.set(roomId, room);
    room.once('close', () => {
      if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
      this.emit('roomclosed', room);
    });
    this.#logger.info('room opened', { roomId, workerPid: worker.pid });
    this.emit('roomcreated', room);
    return room;
  }

  /**
   * Closes a room that stays empty for the grace period (a rejoin within it keeps the room),
   * counted from its opening too: a room opened without anyone joining (a refused login, a late
   * command from another node) must not stay forever. Work asked of the room (Room.hold: a
   * streaming-in into a room nobody joined yet) keeps it open; the grace starts at its end.
   */
  #closeWhenEmpty(room: Room): void {
    const grace = this.#rtc.emptyRoomGraceMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (room.peers.size === 0 && !room.held) room.close('room empty');
      }, grace);
      timer.unref();
    };
    arm();
    const armIfEmpty = () => {
      if (!room.closed && room.peers.size === 0 && !room.held) arm();
    };
    room.on('peerleft', armIfEmpty);
    room.on('released', armIfEmpty);
    room.on('peerjoined', () => clearTimeout(timer));
    room.once('close', () => clearTimeout(timer));
  }

  /** A router for `roomId` on the least-loaded live worker the room does not use yet. */
  async #routerOnUnusedWorker(roomId: string, used: types.Worker[]) {
    const load = (w: types.Worker) => [...this.#rooms.values()].filter((r) => r.workers.includes(w)).length;
    const worker = this.#pool.workers
      .filter((w) => !w.closed && !used.includes(w))
      .sort((a, b) => load(a) - load(b))[0];
    if (!worker) return undefined;
    const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs, appData: { roomId } });
    this.#logger.info('room grew onto another worker', { roomId, workerPid: worker.pid });
    return { router, worker, webRtcServer: await this.#serverOf(worker) };
  }

  async #serverFor(worker: types.Worker, index: number): Promise<void> {
    const port = this.#rtc.port ? this.#rtc.port + index : undefined;
    const listen = (protocol: 'udp' | 'tcp') => ({
      protocol,
      ip: this.#rtc.listenIp,
      ...(this.#rtc.announcedAddress ? { announcedAddress: this.#rtc.announcedAddress } : {}),
      ...(port ? { port } : {}),
    });
    const server = worker.createWebRtcServer({ listenInfos: [listen('udp'), listen('tcp')] });
    this.#servers.set(worker, server);
    await server;
  }

  #serverOf(worker: types.Worker): Promise<types.WebRtcServer> {
    const server = this.#servers.get(worker);
    if (!server) throw new Error(`worker ${worker.pid} has no WebRtcServer yet`);
    return server;
  }

  /** Closes every room; its participants are told to rejoin (elsewhere: this node is leaving). */
  close(): void {
    for (const room of this.#rooms.values()) room.close('media node shutting down', { rejoin: true });
  }
}

const roomWorkers = new WeakMap<Room, types.Worker>();
const workerOf = (room: Room) => roomWorkers.get(room);
