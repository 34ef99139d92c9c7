import type { Logger } from '../../shared/logger.ts';
import type { Departures } from '../../shared/ports/departures.ts';
import type { ParticipantStore, RoomNodes } from '../../shared/ports/live.ts';
import type { ParticipantSink } from '../sfu/ParticipantSink.ts';
import type { Peer } from '../sfu/Peer.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';

export interface SessionKeeperOptions {
  nodeId: string;
  rooms: RoomRegistry;
  /** The live participant records (REST lists them); the node ends a departed participant's. */
  participants?: ParticipantStore | undefined;
  /** Participants per node of a room (cluster modes): a departure counts down once. */
  roomNodes?: RoomNodes | undefined;
  /** Departures no node holds (a cut session whose node died): every node sweeps what falls due. */
  departures?: Departures | undefined;
  logger: Logger;
}

/** How often the shared departures are swept, and how many at a time. */
const SWEEP_MS = 2000;
const SWEEP_BATCH = 100;

/**
 * Sessions outliving their WebSocket. When a participant's socket closes without a goodbye,
 * its peer (transports, producers, consumers: media keeps flowing) is kept for the grace
 * period; a connection that resumes the session takes the peer over, and the others see
 * nothing. Once the grace period passes, or the participant leaves for good, it departs: it
 * leaves the room (the others are told), its live record goes and its node count drops, once.
 */
export class SessionKeeper {
  readonly #o: SessionKeeperOptions;
  /** Suspended peers' departures, by room and participant. */
  readonly #pending = new Map<string, { peer: Peer; timer: ReturnType<typeof setTimeout> }>();

  readonly #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: SessionKeeperOptions) {
    this.#o = options;
    if (options.departures) {
      this.#sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
      this.#sweeper.unref();
    }
  }

  /**
   * Ends the departures that fell due (every SWEEP_MS): the participant leaves its record unless it came back
   * meanwhile (a resume bumps the record's version). Its dead node is counted down.
   */
  async sweep(): Promise<void> {
    const { departures, participants, roomNodes, logger } = this.#o;
    try {
      for (const d of (await departures?.takeDue(Date.now(), SWEEP_BATCH)) ?? []) {
        const live = await participants?.get(d.roomId, d.participantId);
        if (!live || live.version !== d.version) continue;
        if ((await participants?.delete(d.roomId, d.participantId)) === true)
          await roomNodes?.add(d.roomId, d.nodeId, -1);
      }
    } catch (error) {
      logger.warn('sweeping departures failed', { error });
    }
  }

  /** The peer's socket closed: it departs after `graceMs` unless a connection resumes it. */
  suspend(roomId: string, peer: Peer, graceMs: number): void {
    if (graceMs <= 0) {
      void this.depart(roomId, peer.info.id);
      return;
    }
    const key = keyOf(roomId, peer.info.id);
    clearTimeout(this.#pending.get(key)?.timer);
    const timer = setTimeout(() => {
      this.#pending.delete(key);
      // Only the peer that was suspended: a newer one (a rejoin) is not this session.
      if (this.#o.rooms.get(roomId)?.peer(peer.info.id) === peer) void this.depart(roomId, peer.info.id);
    }, graceMs);
    timer.unref();
    this.#pending.set(key, { peer, timer });
  }

  /** A resumed connection takes the peer over (with its sink); returns the sink it replaces. */
  resume(roomId: string, peer: Peer, connectionId: string, sink: ParticipantSink): ParticipantSink {
    const key = keyOf(roomId, peer.info.id);
    clearTimeout(this.#pending.get(key)?.timer);
    this.#pending.delete(key);
    return peer.attach(connectionId, sink);
  }

  /**
   * The participant is gone for good: it leaves the room here, and its live record goes. Whoever
   * deletes the record counts the node down, so a departure reported twice counts once.
   */
  async depart(roomId: string, participantId: string): Promise<void> {
    const key = keyOf(roomId, participantId);
    clearTimeout(this.#pending.get(key)?.timer);
    this.#pending.delete(key);
    this.#o.rooms.get(roomId)?.leave(participantId);
    const { participants, roomNodes, nodeId, logger } = this.#o;
    try {
      if ((await participants?.delete(roomId, participantId)) === true)
        await roomNodes?.add(roomId, nodeId, -1);
    } catch (error) {
      logger.warn('a departed participant was not fully cleaned up', { roomId, participantId, error });
    }
  }

  /** The node is closing: suspended sessions cannot resume here, and they end now. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const pending = [...this.#pending.entries()];
    await Promise.all(
      pending.map(([key]) => {
        const [roomId, participantId] = splitKey(key);
        return this.depart(roomId, participantId);
      }),
    );
  }
}

const SEP = '\n';
const keyOf = (roomId: string, participantId: string) => `${roomId}${SEP}${participantId}`;
const splitKey = (key: string) => key.split(SEP) as [string, string];
