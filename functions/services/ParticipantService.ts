import { ErrorCodes, NotFoundError } from '../../shared/errors.ts';
import type { ParticipantStore } from '../../shared/ports/live.ts';
import type { Participant, ParticipantPatch, Permission } from '../../shared/protocol/http/liveState.ts';
import type { Commands } from './Commands.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';

/** Participants of live rooms: read from live state; changes go to the hosting media node. */
export class ParticipantService {
  readonly #rooms: RoomService;
  readonly #participants: ParticipantStore;
  readonly #commands: Commands;

  constructor(rooms: RoomService, participants: ParticipantStore, commands: Commands) {
    this.#rooms = rooms;
    this.#participants = participants;
    this.#commands = commands;
  }

  async list(caller: Caller, roomId: string): Promise<Participant[]> {
    await this.#rooms.owned(caller, roomId);
    return this.#participants.list(roomId);
  }

  async get(caller: Caller, roomId: string, id: string): Promise<Participant> {
    await this.#rooms.owned(caller, roomId);
    const p = await this.#participants.get(roomId, id);
    if (!p) throw new NotFoundError(ErrorCodes.participantNotFound, `participant ${id} not found`);
    return p;
  }

  async updatePermission(
    caller: Caller,
    roomId: string,
    id: string,
    patch: ParticipantPatch,
  ): Promise<Participant> {
    const p = await this.get(caller, roomId, id);
    const permission = applyPermissionPatch(p.permission, patch);
    const next: Participant = { ...p, permission, version: p.version + 1 };
    await this.#participants.update(next);
    await this.#commands.toRoom({ type: 'participant.permission', roomId, participantId: id, permission });
    return next;
  }

  async drop(caller: Caller, roomId: string, id: string): Promise<void> {
    await this.get(caller, roomId, id);
    await this.#commands.toRoom({ type: 'participant.drop', roomId, participantId: id });
    await this.#participants.delete(roomId, id);
  }
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
