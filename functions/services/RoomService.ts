import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  ValidationError,
} from '../../shared/errors.ts';
import type { Page, PageRequest, RoomStore } from '../../shared/ports/durable.ts';
import type { ParticipantStore, PlacementStore, StreamStore } from '../../shared/ports/live.ts';
import {
  type Room,
  type RoomInput,
  type RoomOptionsPatch,
  RoomOptionsSchema,
} from '../../shared/protocol/http/room.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import type { Commands } from './Commands.ts';
import type { RoomViews } from './RoomViews.ts';
import type { Caller } from './ServiceRegistry.ts';
import { refuseUnimplementedRoomOptions } from './unimplemented.ts';

export interface RoomServiceDeps {
  rooms: RoomStore;
  participants: ParticipantStore;
  streams: StreamStore;
  placement: PlacementStore;
  commands: Commands;
  /** Tells a live room's host its new views (PUT/PATCH); unset: nobody is told (tests of storage alone). */
  views?: RoomViews | undefined;
  /** config.limits.roomsPerService; unset: no limit. */
  maxRoomsPerService?: number;
}

/** Rooms: durable configuration in the RoomStore, owned by one service each. */
export class RoomService {
  readonly #d: RoomServiceDeps;

  constructor(deps: RoomServiceDeps) {
    this.#d = deps;
  }

  /** The room, if the caller's service owns it; another service's room looks exactly like a missing one. */
  async owned(caller: Caller, id: string): Promise<Room> {
    const room = await this.#d.rooms.get(caller.serviceId, id);
    if (!room) throw new NotFoundError(ErrorCodes.roomNotFound, `room ${id} not found`);
    return room;
  }

  /** The key live state, placement and media nodes know the caller's room by (it must exist). */
  async key(caller: Caller, id: string): Promise<string> {
    const room = await this.owned(caller, id);
    return roomKey(room.serviceId, room.id);
  }

  /** A new room: the options given over OWT's defaults (what nothing implements yet is a 501). */
  async create(
    caller: Caller,
    input: { name: string; id?: string; options: RoomOptionsPatch },
  ): Promise<Room> {
    refuseUnimplementedRoomOptions(input.options);
    // Rooms-per-service cap. Checked before the write, so concurrent creates may overshoot it
    // by their number: it bounds a tenant's footprint, it is not an exact quota.
    const max = this.#d.maxRoomsPerService;
    if (max !== undefined && (await this.#d.rooms.count(caller.serviceId)) >= max)
      throw new LimitError(`a service may have at most ${max} rooms`, { limit: max });
    const now = new Date().toISOString();
    const room: Room = {
      id: input.id ?? randomUUID().replaceAll('-', ''),
      serviceId: caller.serviceId,
      name: input.name,
      options: RoomOptionsSchema.parse(input.options),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.#d.rooms.create(room);
    return room;
  }

  list(caller: Caller, page: PageRequest): Promise<Page<Room>> {
    return this.#d.rooms.list(caller.serviceId, page);
  }

  /**
   * PUT. Tessera's `{name, options}` replaces the room (omitted options take their defaults);
   * OWT's flat room object merges like OWT's `Object.assign(room, body)`: the top-level fields
   * given replace the stored ones, the others stay. `ifMatch` (the ETag) makes a stale write a 409.
   */
  async replace(caller: Caller, id: string, input: RoomInput, ifMatch?: number): Promise<Room> {
    if (input.form === 'flat') return this.patch(caller, id, input, ifMatch);
    const room = await this.owned(caller, id);
    this.#check(room, input);
    return this.#write(
      room,
      { name: input.name ?? room.name, options: RoomOptionsSchema.parse(input.options) },
      ifMatch,
    );
  }

  /** PATCH (and OWT's PUT): the given top-level fields over the stored room. */
  async patch(caller: Caller, id: string, input: RoomInput, ifMatch?: number): Promise<Room> {
    const room = await this.owned(caller, id);
    this.#check(room, input);
    return this.#write(
      room,
      { name: input.name ?? room.name, options: { ...room.options, ...input.options } },
      ifMatch,
    );
  }

  /** After the ownership check, so a foreign or missing room is a 404 whatever the body asks. */
  #check(room: Room, input: RoomInput): void {
    if (input.id !== undefined && input.id !== room.id)
      throw new ValidationError("a room's id cannot change", [
        { path: '_id', message: `the room is ${room.id}` },
      ]);
    refuseUnimplementedRoomOptions(input.options);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    await this.#remove(await this.owned(caller, id));
  }

  /** A deleted service takes its rooms with it (their participants are disconnected). */
  async deleteAllOf(serviceId: string): Promise<number> {
    let removed = 0;
    for (;;) {
      // Always the first page: the rooms of the previous one are gone.
      const { items } = await this.#d.rooms.list(serviceId, { limit: 100 });
      if (items.length === 0) return removed;
      for (const room of items) await this.#remove(room);
      removed += items.length;
    }
  }

  /**
   * Forgets the room's participants, closes it on every node hosting it (each disconnects its
   * participants' sockets), then forgets the rest of its live state and deletes it. A login on a
   * socket that outlived this finds no place in the room.
   */
  async #remove(room: Room): Promise<void> {
    const id = roomKey(room.serviceId, room.id);
    const nodes = await this.#d.commands.nodesOf(id);
    // Participants first: from now on no login passes (signaling checks the live record), so
    // nothing can re-open the room on a node after the close below.
    await this.#d.participants.clear(id);
    await Promise.all(nodes.map((node) => this.#d.commands.send(node, { type: 'room.close', roomId: id })));
    await Promise.all([this.#d.streams.clear(id), this.#d.placement.delete(id)]);
    await this.#d.rooms.delete(room.serviceId, room.id);
  }

  async #write(
    room: Room,
    change: Pick<Room, 'name' | 'options'>,
    ifMatch: number | undefined,
  ): Promise<Room> {
    if (ifMatch !== undefined && ifMatch !== room.version) {
      throw new ConflictError(`room ${room.id} is at version ${room.version}, not ${ifMatch}`);
    }
    const next: Room = { ...room, ...change, version: room.version + 1, updatedAt: new Date().toISOString() };
    await this.#d.rooms.update(next);
    // A live room's mixers follow its views at once; a room not placed gets them when it is.
    if (!isDeepStrictEqual(room.options.views, next.options.views))
      await this.#d.views?.changed(roomKey(next.serviceId, next.id), next);
    return next;
  }
}
