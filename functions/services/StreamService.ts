import { ErrorCodes, NotFoundError, PermissionError, ValidationError } from '../../shared/errors.ts';
import type { StreamStore } from '../../shared/ports/live.ts';
import type { StreamPatchOp } from '../../shared/protocol/commands.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import type { Room } from '../../shared/protocol/http/room.ts';
import { parseRoomKey, roomKey } from '../../shared/protocol/http/roomKey.ts';
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
    const stream = await this.#find(roomKey(room.serviceId, room.id), id);
    return present(await this.#apply(room, stream, ops), roomId);
  }

  /**
   * Signaling's `stream.mix`: a participant mixes its own publication into a view of its room
   * (by the room's key), or out of it; the same rules and command as REST's `/info/inViews`.
   */
  async mixOwn(
    key: string,
    participantId: string,
    { streamId, view, op }: { streamId: string; view: string; op: 'add' | 'remove' },
  ): Promise<void> {
    const { serviceId, roomId } = parseRoomKey(key);
    const room = await this.#rooms.owned({ serviceId, isSuper: false }, roomId);
    const stream = await this.#find(key, streamId);
    if (stream.info.owner !== participantId)
      throw new PermissionError(`stream ${streamId} is not yours to mix`);
    await this.#apply(room, stream, [{ op, path: '/info/inViews', value: view }]);
  }

  async #apply(room: Room, stream: Stream, ops: StreamPatchOp[]): Promise<Stream> {
    const key = roomKey(room.serviceId, room.id);
    const live = new Map((await this.#streams.list(key)).map((s) => [s.id, s]));
    const next = applyStreamPatch(room, stream, ops, live);
    await this.#streams.update(next);
    // Pause and play act on the owner's producers; layout on the mixers, which run on the room's
    // host (every stream of the room is piped there); view membership on every node of the room
    // (the host's mix, and the mix-minus each node makes for its own participants).
    const status = ops.filter((op) => op.path.startsWith('/media/'));
    const views = ops.filter((op) => op.path === '/info/inViews');
    const layout = ops.filter((op) => op.path.startsWith('/info/layout'));
    const streamId = stream.id;
    if (status.length)
      await this.#commands.toStreamOwner({ type: 'stream.control', roomId: key, streamId, ops: status });
    if (views.length)
      await this.#commands.toRoomNodes({ type: 'stream.control', roomId: key, streamId, ops: views });
    if (layout.length)
      await this.#commands.toRoomHost({ type: 'stream.control', roomId: key, streamId, ops: layout });
    return next;
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

type Issue = { path: string; message: string };

/**
 * Applies OWT's stream PATCH operations, checked against the room's views and live streams:
 * - `/info/inViews` (mix/unmix): a forward stream, into a view the room has;
 * - `/info/layout` (the whole layout) and `/info/layout/{i}/stream` (one region's stream): on a
 *   mixed stream of a view the room has (with video); a region given by id alone must be one
 *   of the current layout (one with an `area` is a new custom region); each stream placed must
 *   be live and mixed into that view, at most the view's `maxInput` of them, each region once.
 * `live`: the room's stream records by id (this one included).
 */
export function applyStreamPatch(
  room: Room,
  stream: Stream,
  ops: StreamPatchOp[],
  live: ReadonlyMap<string, Stream>,
): Stream {
  const next = structuredClone(stream);
  const issues: Issue[] = [];
  const views = new Map(room.options.views.map((v) => [v.label, v]));
  const mixedView = (at: string) => {
    if (stream.type !== 'mixed') {
      issues.push({ path: at, message: 'only mixed streams have a layout' });
      return undefined;
    }
    const view = views.get(stream.info.label ?? '');
    if (!view?.video) issues.push({ path: at, message: `the room has no video view ${stream.info.label}` });
    return view?.video ? view : undefined;
  };
  /** A stream a region of `label` may show: live, forward, mixed into the view. */
  const placeable = (id: string, label: string, at: string) => {
    const s = live.get(id);
    if (!s) issues.push({ path: at, message: `no stream ${id}` });
    else if (s.type !== 'forward') issues.push({ path: at, message: `stream ${id} is not a forward stream` });
    else if (!s.info.inViews.includes(label))
      issues.push({ path: at, message: `stream ${id} is not mixed into view ${label}` });
  };
  ops.forEach((op, i) => {
    switch (op.path) {
      case '/info/inViews': {
        if (stream.type !== 'forward')
          issues.push({ path: `${i}.path`, message: 'only forward streams are mixed into views' });
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
        const view = mixedView(`${i}.path`);
        if (!view?.video) break;
        const current = new Set((stream.info.layout ?? []).map((r) => r.region.id));
        const seen = new Set<string>();
        let placed = 0;
        for (const [j, { stream: id, region }] of op.value.entries()) {
          if (seen.has(region.id))
            issues.push({ path: `${i}.value.${j}.region.id`, message: `region ${region.id} twice` });
          seen.add(region.id);
          if (region.area === undefined && !current.has(region.id))
            issues.push({
              path: `${i}.value.${j}.region`,
              message: `no region ${region.id} in the layout (give its area to add one)`,
            });
          if (id !== undefined) {
            placed++;
            placeable(id, view.label, `${i}.value.${j}.stream`);
          }
        }
        if (placed > view.video.maxInput)
          issues.push({
            path: `${i}.value`,
            message: `view ${view.label} mixes at most ${view.video.maxInput}`,
          });
        next.info.layout = op.value;
        break;
      }
      default: {
        // OWT's `/info/layout/${regionIndex}/stream`: one region of a mixed stream gets another stream.
        const index = Number(op.path.split('/')[3]);
        const view = mixedView(`${i}.path`);
        const region = next.info.layout?.[index];
        if (!view) break;
        if (!region) issues.push({ path: `${i}.path`, message: `stream has no layout region ${index}` });
        else {
          placeable(op.value, view.label, `${i}.value`);
          region.stream = op.value;
        }
        break;
      }
    }
  });
  if (issues.length > 0) throw new ValidationError('stream update rejected', issues);
  next.version = stream.version + 1;
  return next;
}
