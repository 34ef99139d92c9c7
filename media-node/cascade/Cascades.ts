import type { Logger } from '../../shared/logger.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { RoomNodes } from '../../shared/ports/live.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import type { RoomRegistry, RtcOptions } from '../sfu/RoomRegistry.ts';
import { RoomCascade } from './RoomCascade.ts';

type PipeCommand = Parameters<RoomCascade['handle']>[0];

/** The cascade of every room on this node (rooms that may span nodes). */
export class Cascades {
  readonly #cascades = new Map<string, RoomCascade>();
  readonly #rooms: RoomRegistry;

  constructor(options: {
    nodeId: string;
    rooms: RoomRegistry;
    roomNodes: RoomNodes;
    bus: CommandBus;
    rtc: RtcOptions;
    logger: Logger;
  }) {
    this.#rooms = options.rooms;
    options.rooms.on('roomcreated', (room) => {
      const cascade = new RoomCascade({ ...options, room });
      this.#cascades.set(room.id, cascade);
      room.once('close', () => this.#cascades.delete(room.id));
      void cascade
        .start()
        .catch((error) => options.logger.warn('cascade start failed', { roomId: room.id, error }));
    });
  }

  /** Pipe links in use on this node. */
  get pipes(): number {
    return [...this.#cascades.values()].reduce((n, c) => n + c.pipes, 0);
  }

  /** A command from another node of the room; opens the room here if it is not open yet. */
  async handle(command: Extract<NodeCommand, PipeCommand>): Promise<void> {
    await this.#rooms.open(command.roomId);
    await this.#cascades.get(command.roomId)?.handle(command);
  }
}
