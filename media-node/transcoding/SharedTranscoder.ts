import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ResolvedVideoTranscode } from '../../shared/media/videoOut.ts';
import type { Pipeline } from '../pipelines/Pipeline.ts';

/** A pipeline whose output is a producer of the room's primary router (Transcoder, AudioTranscoder). */
export type TranscodingPipeline = Pipeline & { output(): Promise<types.Producer> };

/** Receives a transcoder's RTP packets (the buffer is shared: copy before changing it). */
export type PacketListener<P> = (packet: Buffer, from: SharedTranscoder<P>) => void;

type Events = { close: [] };

/**
 * One transcoder serving every subscription that asks a source for the same parameters (OWT's
 * "one output per parameter set"): its output is tapped on the room's primary router through a
 * direct transport and handed to each subscription's track, on whatever router that lives. It
 * closes with its last listener, and when its transcoder ends (the source went, ffmpeg failed),
 * which its listeners learn from `close`.
 */
export class SharedTranscoder<P = ResolvedVideoTranscode> extends EventEmitter<Events> {
  readonly params: P;
  readonly #transcoder: TranscodingPipeline;
  readonly #tap: types.DirectTransport;
  readonly #consumer: types.Consumer;
  readonly #listeners = new Set<PacketListener<P>>();
  #closed = false;

  private constructor(
    params: P,
    transcoder: TranscodingPipeline,
    tap: types.DirectTransport,
    consumer: types.Consumer,
  ) {
    super();
    this.params = params;
    this.#transcoder = transcoder;
    this.#tap = tap;
    this.#consumer = consumer;
    consumer.on('rtp', (packet) => {
      for (const listener of this.#listeners) listener(packet, this);
    });
    transcoder.once('close', () => this.close());
    consumer.once('transportclose', () => this.close());
  }

  /** Taps `transcoder` (already running under the node's pipelines) once its output exists. */
  static async open<P>(
    params: P,
    transcoder: TranscodingPipeline,
    router: types.Router,
  ): Promise<SharedTranscoder<P>> {
    try {
      const producer = await transcoder.output();
      const tap = await router.createDirectTransport();
      const consumer = await tap
        .consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities })
        .catch((error) => {
          tap.close();
          throw error;
        });
      const shared = new SharedTranscoder(params, transcoder, tap, consumer);
      if (transcoder.closed) shared.close();
      return shared;
    } catch (error) {
      transcoder.close('stopped');
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The output's codec as the room's routers name it (payload type included). */
  get codec(): types.RtpCodecParameters {
    return this.#consumer.rtpParameters.codecs[0]!;
  }

  /** Stops it when nobody listens (a subscription that failed, or an update that changed nothing). */
  closeIfUnused(): void {
    if (this.#listeners.size === 0) this.close();
  }

  add(listener: PacketListener<P>): void {
    if (!this.#closed) this.#listeners.add(listener);
  }

  /** A listener leaves; the last one leaving stops the transcoder. */
  remove(listener: PacketListener<P>): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#tap.close();
    this.#transcoder.close('stopped');
    this.emit('close');
  }
}
