import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import { NODE_FRESH_MS } from '../../shared/placement/nodeHealth.ts';
import type { Ingress, IngressRequest } from '../../shared/protocol/http/ingress.ts';
import type { Commands } from './Commands.ts';
import type { PipelineHosts } from './PipelineHosts.ts';
import type { RoomService } from './RoomService.ts';
import type { Caller } from './ServiceRegistry.ts';

/** Where each media node takes RTMP pushes: from its capacity reports, or the embedded node's own. */
export interface IngestDirectory {
  rtmpUrl(nodeId: string): Promise<string | undefined>;
}

/**
 * Push ingest (LiveKit's Ingress; OWT had none): an `rtmp-in` pipeline on the room's host that
 * admits the encoder pushing with the ingress's stream key (192 random bits) and makes it the
 * room's forward stream `id` (`info.type` streaming) while it publishes. The key is shown once,
 * in POST's answer; DELETE stops the pipeline and disconnects the encoder.
 */
export class IngressService {
  readonly #rooms: RoomService;
  readonly #commands: Commands;
  readonly #hosts: PipelineHosts;
  readonly #directory: IngestDirectory;

  constructor(d: { rooms: RoomService; commands: Commands; hosts: PipelineHosts; ingest: IngestDirectory }) {
    this.#rooms = d.rooms;
    this.#commands = d.commands;
    this.#hosts = d.hosts;
    this.#directory = d.ingest;
  }

  async create(caller: Caller, roomId: string, request: IngressRequest): Promise<Ingress> {
    const key = await this.#rooms.key(caller, roomId);
    // Into a room nobody has joined yet too: it is placed on a node that can stream.
    const host = await this.#hosts.placeFor(key, 'stream');
    const url = await this.#directory.rtmpUrl(host);
    if (!url)
      throw new TesseraError(
        ErrorCodes.clusterUnavailable,
        "the room's media node takes no RTMP pushes (its RTMP_INGEST_PORT is not set)",
      );
    const id = randomUUID();
    const streamKey = randomBytes(24).toString('base64url');
    const audio = request.media.audio !== false;
    const video = request.media.video !== false;
    await this.#commands.send(host, {
      type: 'pipeline.start',
      roomId: key,
      pipelineId: id,
      kind: 'rtmp-in',
      params: { audio, video, publication: id, streamKey },
    });
    return { id, protocol: 'rtmp', url, streamKey, media: { audio, video } };
  }

  /** Stops it: the encoder is disconnected and the stream leaves the room. */
  async delete(caller: Caller, roomId: string, id: string): Promise<void> {
    const key = await this.#rooms.key(caller, roomId);
    await this.#commands.toRoomHost({ type: 'pipeline.stop', roomId: key, pipelineId: id });
  }
}

/** The directory of a cluster: each node's last capacity report names its RTMP ingest. */
export const reportedIngest = (nodes: {
  fresh(maxAgeMs: number): Promise<{ id: string; rtmpIngestUrl?: string }[]>;
}): IngestDirectory => ({
  async rtmpUrl(nodeId) {
    return (await nodes.fresh(NODE_FRESH_MS)).find((n) => n.id === nodeId)?.rtmpIngestUrl;
  },
});
