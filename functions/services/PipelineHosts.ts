import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { Commands } from './Commands.ts';

/** What a room-wide pipeline needs of the node it runs on (the node reports what it has). */
export type PipelineCapability = 'stream' | 'record' | 'mix';

const WHY: Record<PipelineCapability, string> = {
  stream: 'stream (its ffmpeg lacks libx264 or an AAC encoder)',
  record: 'record (it runs no ffmpeg)',
  mix: 'mix (its ffmpeg lacks libx264/libvpx or libopus)',
};

export interface PipelineHostsDeps {
  /** The room's placement; none is a cluster fault (Commands.hostOf). */
  hostOf: Commands['hostOf'];
  /** What a node reports it can do; undefined for a node that does not report now. */
  capabilitiesOf(nodeId: string): Promise<string[] | undefined>;
  /**
   * The room's node: its live host, or (a room nobody has joined yet, or whose host died) a node
   * chosen among those with every capability named.
   */
  place(roomKey: string, requires: string[]): Promise<string>;
}

/**
 * Where a room's pipelines run: its host (the node it is placed on). A source (a streaming-in,
 * a push ingest) may be the first thing in a room: the room is then placed on a node that has
 * the capability the pipeline needs. A placed room keeps its host (moving a live room is the
 * placer's failover), and a host without the capability is a clear refusal, not a command that
 * fails out of sight on the node.
 */
export class PipelineHosts {
  readonly #d: PipelineHostsDeps;

  constructor(deps: PipelineHostsDeps) {
    this.#d = deps;
  }

  /** The host of a room that must be placed already (its sources are there): recordings, streaming-outs. */
  async hostOf(roomKey: string, needs: PipelineCapability): Promise<string> {
    return this.#capable(await this.#d.hostOf(roomKey), needs);
  }

  /** The host for a source pipeline, placing the room on a capable node when it has no live one. */
  async placeFor(roomKey: string, needs: PipelineCapability): Promise<string> {
    return this.#capable(await this.#d.place(roomKey, ['sfu', needs]), needs);
  }

  async #capable(host: string, needs: PipelineCapability): Promise<string> {
    const capabilities = await this.#d.capabilitiesOf(host);
    // A host that does not report now (a restart under way) gets the command: its queue keeps it.
    if (capabilities && !capabilities.includes(needs))
      throw new TesseraError(
        ErrorCodes.clusterUnavailable,
        `the room's media node ${host} cannot ${WHY[needs]}`,
      );
    return host;
  }
}
