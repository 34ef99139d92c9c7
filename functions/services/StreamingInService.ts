import { randomUUID } from 'node:crypto';
import type { StreamingIn, StreamingInRequest } from '../../shared/protocol/http/streamingIn.ts';
import { checkStreamingUrl } from '../streaming/urls.ts';
import type { Commands } from './Commands.ts';
import type { PipelineHosts } from './PipelineHosts.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';

/**
 * OWT's streaming-ins (`/v1/rooms/{room}/streaming-ins`): an RTSP, RTMP or HLS (an http(s)
 * playlist) source pulled into the
 * room by a `stream-in` pipeline on the room's host (a room nobody has joined is placed on a node
 * that can stream, and stays open while the pipeline runs), which reconnects with capped, jittered
 * backoff when the source stops. Its id is the stream's: it is listed under `/streams` (type
 * forward, `info.type` streaming) while it flows, and `pipeline.*` events tell how it goes.
 * A node runs at most MAX_PIPELINES_PER_ROOM pipelines per room (a start beyond is refused there).
 */
export class StreamingInService {
  readonly #rooms: RoomService;
  readonly #commands: Commands;
  readonly #hosts: PipelineHosts;
  readonly #allowPrivate: boolean;
  /** The URL schemes allowed (STREAMING_IN_SCHEMES), as URL.protocol spells them (`rtsp:`). */
  readonly #schemes: readonly string[];

  constructor(d: {
    rooms: RoomService;
    commands: Commands;
    hosts: PipelineHosts;
    allowPrivateUrls: boolean;
    schemes?: readonly string[];
  }) {
    this.#rooms = d.rooms;
    this.#commands = d.commands;
    this.#hosts = d.hosts;
    this.#allowPrivate = d.allowPrivateUrls;
    this.#schemes = (d.schemes ?? ['rtsp', 'rtmp', 'rtmps', 'http', 'https']).map((s) => `${s}:`);
  }

  async start(caller: Caller, roomId: string, request: StreamingInRequest): Promise<StreamingIn> {
    const key = await this.#rooms.key(caller, roomId);
    const { url: raw, transportProtocol } = request.connection;
    const url = checkStreamingUrl(raw, this.#schemes, this.#allowPrivate);
    const protocol = url.startsWith('rtsp:') ? 'rtsp' : url.startsWith('http') ? 'hls' : 'rtmp';
    const audio = request.media.audio !== false;
    const video = request.media.video !== false;
    const id = randomUUID();
    // Into a room nobody has joined yet too: it is placed on a node that can stream.
    const host = await this.#hosts.placeFor(key, 'stream');
    await this.#commands.send(host, {
      type: 'pipeline.start',
      roomId: key,
      pipelineId: id,
      kind: 'stream-in',
      params: { protocol, transport: transportProtocol, audio, video, publication: id },
      source: { url },
    });
    return { id, type: 'forward', media: { audio, video }, info: { type: 'streaming', inViews: [] }, url };
  }

  /** Stops pulling (the stream leaves the room); OWT's DELETE of a streaming-in. */
  async stop(caller: Caller, roomId: string, id: string): Promise<void> {
    const key = await this.#rooms.key(caller, roomId);
    await this.#commands.toRoomHost({ type: 'pipeline.stop', roomId: key, pipelineId: id });
  }
}
