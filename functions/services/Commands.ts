import { randomUUID } from 'node:crypto';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { PlacementStore, RoomNodes } from '../../shared/ports/live.ts';
import type { NodeCommand, NodeCommandInput } from '../../shared/protocol/commands.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';

/** Turns control-plane actions into commands for the media nodes that host the room. */
export class Commands {
  readonly #bus: CommandBus;
  readonly #placement: PlacementStore;
  readonly #roomNodes: RoomNodes | undefined;

  constructor(bus: CommandBus, placement: PlacementStore, roomNodes?: RoomNodes) {
    this.#bus = bus;
    this.#placement = placement;
    this.#roomNodes = roomNodes;
  }

  /** Sends to an explicit node. */
  async send(nodeId: string, input: NodeCommandInput): Promise<NodeCommand> {
    const command = { ...input, id: randomUUID(), issuedAt: new Date().toISOString() } as NodeCommand;
    await this.#bus.send(nodeId, command);
    return command;
  }

  /** Every node hosting part of the room (its placement, and the others it spans). */
  async nodesOf(roomId: string): Promise<string[]> {
    const [primary, spanned] = await Promise.all([
      this.#placement.get(roomId),
      this.#roomNodes?.counts(roomId) ?? {},
    ]);
    return [...new Set([...(primary ? [primary] : []), ...Object.keys(spanned)])];
  }

  /**
   * Sends to every node hosting the room: a participant or stream may be on any of them, and a
   * node without it ignores the command. A live room without a node is a cluster fault (1201).
   */
  async toRoom(input: NodeCommandInput): Promise<void> {
    const nodes = await this.nodesOf(input.roomId);
    if (nodes.length === 0)
      throw new TesseraError(
        ErrorCodes.clusterUnavailable,
        `room ${parseRoomKey(input.roomId).roomId} has no media node`,
      );
    await Promise.all(nodes.map((node) => this.send(node, input)));
  }
}
