import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { StreamStore } from '../../shared/ports/live.ts';
import type { StreamPatchOp } from '../../shared/protocol/commands.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import type { Room } from '../../shared/protocol/http/room.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import type { Commands } from './Commands.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';

/** Streams of live rooms: mix/unmix, pause/play and layout, carried out by the media node. */
export class StreamService {
  readonly #rooms: RoomService;
  readonly #streams: StreamStore;
  readonly #commands: Commands;

  constructor(rooms: RoomService, streams: StreamStore, commands: Commands) {
    this.#rooms = rooms;
    this.#streams = streams;
    this.#commands = commands;
  }

  async list(caller: Caller, roomId: string): Promise<Stream[]> {
    const key = await this.#rooms.key(caller, roomId);
    return (await this.#streams.list(key)).map((s) => present(s, roomId));
  }

  async get(caller: Caller, roomId: string, id: string): Promise<Stream> {
    const key = await this.#rooms.key(caller, roomId);
    return present(await this.#find(key, id), roomId);
  }

  async patch(caller: Caller, roomId: string, id: string, ops: StreamPatchOp[]): Promise<Stream> {
    const room = await this.#rooms.owned(caller, roomId);
    const key = roomKey(room.serviceId, room.id);
    const stream = await this.#find(key, id);
    const others = new Set((await this.#streams.list(key)).map((s) => s.id));
    const next = applyStreamPatch(room, stream, ops, others);
    await this.#streams.update(next);
    // Pause and play act on the owner's producers; views and layout on the room's mixers.
    const status = ops.filter((op) => op.path.startsWith('/media/'));
    const layout = ops.filter((op) => !op.path.startsWith('/media/'));
    if (status.length)
      await this.#commands.toStreamOwner({ type: 'stream.control', roomId: key, streamId: id, ops: status });
    if (layout.length)
      await this.#commands.toRoomNodes({ type: 'stream.control', roomId: key, streamId: id, ops: layout });
    return present(next, roomId);
  }

  async delete(caller: Caller, roomId: string, id: string): Promise<void> {
    const key = await this.#rooms.key(caller, roomId);
    await this.#find(key, id);
    await this.#commands.toStreamOwner({ type: 'stream.remove', roomId: key, streamId: id });
    await this.#streams.delete(key, id);
  }

  /** The live record, stored under the room's key. */
  async #find(key: string, id: string): Promise<Stream> {
    const stream = await this.#streams.get(key, id);
    if (!stream) throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${id} not found`);
    return stream;
  }
}

/** The record as tenants see it: under their room id, without the node that hosts it. */
function present({ nodeId: _, ...stream }: Stream, roomId: string): Stream {
  return { ...stream, roomId };
}

/** Applies OWT's stream PATCH operations, checked against the room's views and live streams. */
export function applyStreamPatch(
  room: Room,
  stream: Stream,
  ops: StreamPatchOp[],
  liveStreams: Set<string>,
): Stream {
  const next = structuredClone(stream);
  const issues: { path: string; message: string }[] = [];
  const views = new Set(room.options.views.map((v) => v.label));
  ops.forEach((op, i) => {
    switch (op.path) {
      case '/info/inViews': {
        if (!views.has(op.value))
          issues.push({ path: `${i}.value`, message: `room has no view ${op.value}` });
        const inViews = new Set(next.info.inViews);
        if (op.op === 'add') inViews.add(op.value);
        else inViews.delete(op.value);
        next.info.inViews = [...inViews];
        break;
      }
      case '/media/audio/status':
      case '/media/video/status': {
        const kind = op.path === '/media/audio/status' ? 'audio' : 'video';
        const track = next.media[kind];
        if (!track) issues.push({ path: `${i}.path`, message: `stream has no ${kind}` });
        else track.status = op.value;
        break;
      }
      case '/info/layout': {
        if (stream.type !== 'mixed')
          issues.push({ path: `${i}.path`, message: 'only mixed streams have a layout' });
        for (const [j, region] of op.value.entries()) {
          if (region.stream !== undefined && !liveStreams.has(region.stream))
            issues.push({ path: `${i}.value.${j}.stream`, message: `no stream ${region.stream}` });
        }
        next.info.layout = op.value;
        break;
      }
      default: {
        // OWT's `/info/layout/${regionIndex}/stream`: one region of a mixed stream gets another stream.
        const index = Number(op.path.split('/')[3]);
        const region = next.info.layout?.[index];
        if (stream.type !== 'mixed' || !region)
          issues.push({ path: `${i}.path`, message: `stream has no layout region ${index}` });
        else if (!liveStreams.has(op.value))
          issues.push({ path: `${i}.value`, message: `no stream ${op.value}` });
        else region.stream = op.value;
        break;
      }
    }
  });
  if (issues.length > 0) throw new ValidationError('stream update rejected', issues);
  next.version = stream.version + 1;
  return next;
}
