import { randomUUID } from 'node:crypto';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { PlacementStore } from '../../shared/ports/live.ts';
import type { NodeCommand, NodeCommandInput } from '../../shared/protocol/commands.ts';

/** Turns control-plane actions into commands for the media node that hosts the room. */
export class Commands {
  readonly #bus: CommandBus;
  readonly #placement: PlacementStore;

  constructor(bus: CommandBus, placement: PlacementStore) {
    this.#bus = bus;
    this.#placement = placement;
  }

  /** Sends to an explicit node. */
  async send(nodeId: string, input: NodeCommandInput): Promise<NodeCommand> {
    const command = { ...input, id: randomUUID(), issuedAt: new Date().toISOString() } as NodeCommand;
    await this.#bus.send(nodeId, command);
    return command;
  }

  /** Sends to the node hosting the room; a live room without a node is a cluster fault (1201). */
  async toRoom(input: NodeCommandInput): Promise<NodeCommand> {
    const node = await this.#placement.get(input.roomId);
    if (!node)
      throw new TesseraError(ErrorCodes.clusterUnavailable, `room ${input.roomId} has no media node`);
    return this.send(node, input);
  }
}
