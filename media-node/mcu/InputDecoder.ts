import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import type { Logger } from '../../shared/logger.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import type { RtpBridge, RtpInput } from '../pipelines/RtpBridge.ts';
import type { Room } from '../sfu/Room.ts';
import { yuvFrameSize } from './canvas.ts';
import { openMixerInput } from './openMixerInput.ts';
import { FrameAssembler, SupervisedFfmpeg } from './SupervisedFfmpeg.ts';

/**
 * Until a run's first frame, the sender is asked for a key frame this often. Often: a PLI sent
 * before the decoder has bound its port is lost, and every lost one delays the region (a layout
 * change, a crash) by a full retry. Browsers answer a PLI within a frame or two.
 */
const KEY_FRAME_RETRY_MS = 250;
/** A crashed decoder's first respawn (then it waits for `ready`: SupervisedOptions.ready). */
const DECODER_RESPAWN_MS = 300;

export interface InputDecoderOptions {
  room: Room;
  bridge: RtpBridge;
  producerId: string;
  /** Its own receive SDP file: two decoders of one input overlap while a region is resized. */
  sdpPath: string;
  size: { width: number; height: number };
  /** The `-vf` scaling (fit policy) to `size`, ending in yuv420p. */
  filter: string;
  logger: Logger;
  /** A respawn after a crash waits for this (the mixer's encoder running). */
  ready: () => boolean;
  /** Runs each spawn when the mixer allows (SupervisedOptions.gate). */
  gate?: ((spawn: () => void) => void) | undefined;
}

type Events = {
  /** A decoded frame of `size`, the listener's to keep (or hand back with recycle()). */
  frame: [Buffer];
  /** The input could not be opened (the track went, the router closed). */
  failed: [Error];
  /** The track was unpublished or its participant left. */
  producerclose: [];
};

/**
 * One mixer input decoded at one size: the room track consumed into its own RTP port and an
 * ffmpeg turning it into raw yuv420p frames already scaled to its region (fit policy applied),
 * respawned after a crash, asking the sender for a key frame until each run's first frame. A
 * region resized gets a new InputDecoder, and the mixer keeps showing the old one's frames,
 * resized, until the new one's first frame (make before break: the region never freezes while an
 * ffmpeg starts and waits for a key frame). close() is idempotent.
 */
export class InputDecoder extends EventEmitter<Events> {
  readonly size: { width: number; height: number };
  readonly #o: InputDecoderOptions;
  #input: RtpInput | undefined;
  #decoder: SupervisedFfmpeg | undefined;
  #assembler: FrameAssembler | undefined;
  #keyFrames: ReturnType<typeof setInterval> | undefined;
  #frames = 0;
  #closed = false;

  constructor(options: InputDecoderOptions) {
    super();
    this.#o = options;
    this.size = { width: options.size.width, height: options.size.height };
    void this.#open().catch((error: unknown) => {
      if (!this.#closed) this.emit('failed', error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** Frames decoded so far (across respawns). */
  get frames(): number {
    return this.#frames;
  }

  get process(): FfmpegProcess | undefined {
    return this.#decoder?.process;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A frame the listener no longer holds, to be filled again (fresh 0.3–1.4 MB buffers cost page faults). */
  recycle(frame: Buffer): void {
    this.#assembler?.recycle(frame);
  }

  async #open(): Promise<void> {
    const { room, bridge, producerId, sdpPath, logger, ready, gate } = this.#o;
    const input = await openMixerInput(
      room,
      bridge,
      { producerId, sdpPath },
      () => this.#closed,
      () => this.emit('producerclose'),
    );
    if (!input) return;
    this.#input = input;
    const decoder = new SupervisedFfmpeg({
      name: `decoder ${producerId}`,
      logger,
      stdout: 'raw',
      rawSocket: this.#socketPath,
      respawnMs: DECODER_RESPAWN_MS,
      ready,
      ...(gate ? { gate } : {}),
      args: () => this.#args(),
    });
    this.#decoder = decoder;
    decoder.on('spawn', () => {
      let first = true;
      this.#assembler = new FrameAssembler(yuvFrameSize(this.size.width, this.size.height), (frame) => {
        this.#frames++;
        if (first) {
          first = false;
          clearInterval(this.#keyFrames);
        }
        this.emit('frame', frame);
      });
      // A decoder starts at a key frame: ask for one now and until its first frame.
      clearInterval(this.#keyFrames);
      const ask = () => void input.consumer.requestKeyFrame().catch(() => {});
      ask();
      this.#keyFrames = setInterval(ask, KEY_FRAME_RETRY_MS);
      this.#keyFrames.unref();
    });
    decoder.on('data', (chunk) => this.#assembler?.push(chunk));
    decoder.restart();
  }

  /** Beside its SDP file (the mixer's directory, removed with it). */
  get #socketPath(): string {
    return this.#o.sdpPath.replace(/\.sdp$/, '.sock');
  }

  #args(): string[] {
    return [
      // Low delay (research/mcu-baseline.md §2): no demuxer buffering, no frame threading.
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
      // One filter thread too: the default (one per core) costs more than it saves at cell sizes.
      ...['-threads', '1', '-filter_threads', '1', '-reorder_queue_size', '0', '-i', this.#o.sdpPath],
      ...['-map', '0:v:0', '-an', '-vf', this.#o.filter],
      // Every decoded frame as it comes: the compositor's clock, not ffmpeg's, paces the mix.
      ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p'],
      // To a socket this process reads without allocating (FfmpegProcessOptions.rawSocket).
      ...['-listen', '1', `unix:${this.#socketPath}`],
    ];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keyFrames);
    this.#decoder?.close();
    if (this.#input) this.#o.bridge.closeInput(this.#input);
    rmSync(this.#o.sdpPath, { force: true });
    rmSync(this.#socketPath, { force: true });
    this.removeAllListeners();
  }
}
