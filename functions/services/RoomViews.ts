import type { Logger } from '../../shared/logger.ts';
import type { RoomStore } from '../../shared/ports/durable.ts';
import type { PlacementStore, RoomNodes } from '../../shared/ports/live.ts';
import type { Room } from '../../shared/protocol/http/room.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import type { Commands } from './Commands.ts';

export interface RoomViewsDeps {
  rooms: RoomStore;
  placement: PlacementStore;
  commands: Pick<Commands, 'send'>;
  /** Which nodes host the room's participants: those not its host hear of view changes too. */
  roomNodes?: RoomNodes | undefined;
  logger?: Logger | undefined;
}

/**
 * Tells a room's host node the room's views (`views.configure`), which its mixers make into
 * mixed streams: once when the room is placed on a node (first placement, or a move after a
 * failure or a drain), and whenever the views change. The room is read only then, not at every
 * join: a placement is rare, and the placer does not have the room record (a failover login never
 * reads it), so one RoomStore read per placement is cheaper than threading the record through
 * every join. The command goes out before the placement is used, so the host has the views
 * before the first login it forwards there, hence before any publication to mix.
 *
 * A room that spans nodes: its other nodes get the views with `mixing: false` (when the first of
 * the room's participants is placed there, and on every change), so that the records they write
 * show their publications in the views (`inViews`, which REST's mix and layout rules check); the
 * host mixes them (their streams are piped to it) and pipes the mixed streams back.
 */
export class RoomViews {
  readonly #d: RoomViewsDeps;

  constructor(deps: RoomViewsDeps) {
    this.#d = deps;
  }

  /** The room (by key) was placed on `nodeId`: it gets the views. Never throws (logged): placing goes on. */
  async placed(roomKey: string, nodeId: string): Promise<void> {
    try {
      const { serviceId, roomId } = parseRoomKey(roomKey);
      const room = await this.#d.rooms.get(serviceId, roomId);
      if (room) await this.#send(roomKey, nodeId, room);
    } catch (error) {
      this.#d.logger?.warn('sending the views to a newly placed room failed', { nodeId, error });
    }
  }

  /**
   * A participant of the room was placed on `nodeId`, not the room's host, where it had none: that
   * node records the views without mixing. Never throws (logged).
   */
  async spread(roomKey: string, nodeId: string): Promise<void> {
    try {
      const { serviceId, roomId } = parseRoomKey(roomKey);
      const room = await this.#d.rooms.get(serviceId, roomId);
      if (room) await this.#send(roomKey, nodeId, room, false);
    } catch (error) {
      this.#d.logger?.warn('sending the views to a node the room spreads to failed', { nodeId, error });
    }
  }

  /**
   * A client found `nodeId` unresponsive and stayed on it (it answers again: likely restarted
   * under the same id, the placement intact): if it is the room's host, it gets the views again.
   * Rare (failover logins only) and idempotent, so a room's participants failing over together
   * may each send it.
   */
  async recovered(roomKey: string, nodeId: string): Promise<void> {
    try {
      if ((await this.#d.placement.get(roomKey)) === nodeId) await this.placed(roomKey, nodeId);
    } catch (error) {
      this.#d.logger?.warn('re-sending the views to a recovered host failed', { nodeId, error });
    }
  }

  /**
   * The room's views changed (PUT/PATCH, already stored): its host, if it is live somewhere, gets
   * them. Never throws (logged): the change is stored, and the next placement carries it.
   */
  async changed(roomKey: string, room: Room): Promise<void> {
    try {
      const [host, counts] = await Promise.all([
        this.#d.placement.get(roomKey),
        this.#d.roomNodes?.counts(roomKey) ?? {},
      ]);
      if (!host) return;
      const others = Object.keys(counts).filter((n) => n !== host);
      await Promise.all([
        this.#send(roomKey, host, room),
        ...others.map((n) => this.#send(roomKey, n, room, false)),
      ]);
    } catch (error) {
      this.#d.logger?.warn('sending changed views to the room host failed', { error });
    }
  }

  #send(roomKey: string, nodeId: string, room: Room, mixing = true): Promise<unknown> {
    return this.#d.commands.send(nodeId, {
      type: 'views.configure',
      roomId: roomKey,
      views: room.options.views,
      ...(mixing ? {} : { mixing: false }),
    });
  }
}
