import { ErrorCodes, NotFoundError, TesseraError } from '../../shared/errors.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { ParticipantStore, PlacementStore, RoomNodes, StreamStore } from '../../shared/ports/live.ts';
import { type NodeCommand, type NodeCommandInput, newCommand } from '../../shared/protocol/commands.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';

/** What addressing needs; the field names are the adapters' (`new Commands(adapters)`). */
export interface CommandsDeps {
  commands: CommandBus;
  placement: PlacementStore;
  roomNodes?: RoomNodes | undefined;
  participants: ParticipantStore;
  streams: StreamStore;
}

type ForParticipant = Extract<NodeCommandInput, { participantId: string }>;
type ForStream = Extract<NodeCommandInput, { streamId: string }>;

/**
 * Turns control-plane actions into commands, each addressed to the node(s) it concerns (LiveKit's
 * ParticipantTopic / RoomTopic): a participant's node, a stream owner's node, every node of the
 * room, or the room's host. Records written before they carried a node fall back to every node
 * of the room (a node without the participant or stream ignores the command). A command to a
 * node that died is lost with it, and that is enough: the change is in the live record (a
 * permission) or the record is gone (a drop), and the participant's next login reads it.
 */
export class Commands {
  readonly #d: CommandsDeps;

  constructor(deps: CommandsDeps) {
    this.#d = deps;
  }

  /** Sends to an explicit node. */
  async send(nodeId: string, input: NodeCommandInput): Promise<NodeCommand> {
    const command = newCommand(input);
    await this.#d.commands.send(nodeId, command);
    return command;
  }

  /** Every node hosting part of the room (its placement, and the others it spans). */
  async nodesOf(roomId: string): Promise<string[]> {
    const [primary, spanned] = await Promise.all([
      this.#d.placement.get(roomId),
      this.#d.roomNodes?.counts(roomId) ?? {},
    ]);
    return [...new Set([...(primary ? [primary] : []), ...Object.keys(spanned)])];
  }

  /** The node in the participant's live record; not found (404) when there is no record. */
  async toParticipant(input: ForParticipant): Promise<string[]> {
    const record = await this.#d.participants.get(input.roomId, input.participantId);
    if (!record)
      throw new NotFoundError(ErrorCodes.participantNotFound, `participant ${input.participantId} not found`);
    return record.nodeId ? this.#to([record.nodeId], input) : this.toRoomNodes(input, { required: true });
  }

  /** The node its owner publishes on, from the stream's live record. */
  async toStreamOwner(input: ForStream): Promise<string[]> {
    const record = await this.#d.streams.get(input.roomId, input.streamId);
    if (!record) throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${input.streamId} not found`);
    return record.nodeId ? this.#to([record.nodeId], input) : this.toRoomNodes(input, { required: true });
  }

  /**
   * Every node of the room (room close, room-wide layout). A room with no node is no room on any
   * node: nothing to tell, unless the caller needs one (`required`: a cluster fault, 1201).
   */
  async toRoomNodes(input: NodeCommandInput, options: { required?: boolean } = {}): Promise<string[]> {
    const nodes = await this.nodesOf(input.roomId);
    if (nodes.length === 0 && options.required) throw noNode(input.roomId);
    return this.#to(nodes, input);
  }

  /** The room's host (its placement): where room-wide media work such as pipelines runs. */
  async toRoomHost(input: NodeCommandInput): Promise<string[]> {
    return this.#to([await this.hostOf(input.roomId)], input);
  }

  /** The room's host; a room with no node is a cluster fault (1201). */
  async hostOf(roomId: string): Promise<string> {
    const host = await this.#d.placement.get(roomId);
    if (!host) throw noNode(roomId);
    return host;
  }

  /** The same command to each of `nodes`, each copy with its own id (as `send` makes it). */
  async #to(nodes: string[], input: NodeCommandInput): Promise<string[]> {
    await Promise.all(nodes.map((node) => this.send(node, input)));
    return nodes;
  }
}

const noNode = (roomId: string) =>
  new TesseraError(ErrorCodes.clusterUnavailable, `room ${parseRoomKey(roomId).roomId} has no media node`);
