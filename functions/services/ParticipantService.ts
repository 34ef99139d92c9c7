import { ErrorCodes, NotFoundError } from '../../shared/errors.ts';
import type { ParticipantStore, RoomNodes } from '../../shared/ports/live.ts';
import type { Participant, ParticipantPatch, Permission } from '../../shared/protocol/http/liveState.ts';
import type { Commands } from './Commands.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';

/** Participants of live rooms: read from live state; changes go to the hosting media node. */
export class ParticipantService {
  readonly #rooms: RoomService;
  readonly #participants: ParticipantStore;
  readonly #commands: Commands;

  readonly #roomNodes: RoomNodes | undefined;

  constructor(rooms: RoomService, participants: ParticipantStore, commands: Commands, roomNodes?: RoomNodes) {
    this.#roomNodes = roomNodes;
    this.#rooms = rooms;
    this.#participants = participants;
    this.#commands = commands;
  }

  async list(caller: Caller, roomId: string): Promise<Participant[]> {
    const key = await this.#rooms.key(caller, roomId);
    return (await this.#participants.list(key)).map((p) => present(p, roomId));
  }

  async get(caller: Caller, roomId: string, id: string): Promise<Participant> {
    const { participant } = await this.#find(caller, roomId, id);
    return present(participant, roomId);
  }

  async updatePermission(
    caller: Caller,
    roomId: string,
    id: string,
    patch: ParticipantPatch,
  ): Promise<Participant> {
    const { key, participant: p } = await this.#find(caller, roomId, id);
    const permission = applyPermissionPatch(p.permission, patch);
    const next: Participant = { ...p, permission, version: p.version + 1 };
    await this.#participants.update(next);
    await this.#commands.toParticipant({
      type: 'participant.permission',
      roomId: key,
      participantId: id,
      permission,
    });
    return present(next, roomId);
  }

  async drop(caller: Caller, roomId: string, id: string): Promise<void> {
    const { key, participant } = await this.#find(caller, roomId, id);
    await this.#commands.toParticipant({ type: 'participant.drop', roomId: key, participantId: id });
    // Whoever deletes the live record counts its node down (as a departure on the node does).
    if ((await this.#participants.delete(key, id)) && participant.nodeId)
      await this.#roomNodes?.add(key, participant.nodeId, -1);
  }

  /** The live record (stored under the room's key) and that key. */
  async #find(caller: Caller, roomId: string, id: string) {
    const key = await this.#rooms.key(caller, roomId);
    const participant = await this.#participants.get(key, id);
    if (!participant) throw new NotFoundError(ErrorCodes.participantNotFound, `participant ${id} not found`);
    return { key, participant };
  }
}

/** The record as the application sees it: its own room id, and no internal node id. */
function present({ nodeId: _, ...participant }: Participant, roomId: string): Participant {
  return { ...participant, roomId };
}

export function applyPermissionPatch(current: Permission, patch: ParticipantPatch): Permission {
  const next = structuredClone(current);
  for (const { path, value } of patch) {
    const [, , direction, kind] = path.split('/') as [
      string,
      string,
      'publish' | 'subscribe',
      ('audio' | 'video')?,
    ];
    if (kind === undefined) {
      next[direction] = value as Permission['publish'];
    } else {
      const media = next[direction] || { audio: false, video: false };
      media[kind] = value as boolean;
      next[direction] = media;
    }
  }
  return next;
}
