import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedStreamId, type ResolvedView } from '../../shared/protocol/mcu.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { type EncodedVideoCodec, videoEncoderArgs } from '../ffmpeg/videoEncoders.ts';
import { Pipeline, type PipelineContext } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpOutput } from '../pipelines/RtpBridge.ts';
import { blit, NearestScaler, solidFrame, yuvFrameSize } from './canvas.ts';
import { InputDecoder } from './InputDecoder.ts';
import { type LayoutEntry, pixelRect, type Rect } from './layout.ts';
import { RtpRelay } from './RtpRelay.ts';
import { MIXER_RESTART_MS } from './SupervisedFfmpeg.ts';

export type VideoView = Exclude<ResolvedView['video'], false>;

/** A mixed stream's key frame interval is capped: ffmpeg does not answer PLIs, new subscribers wait for one. */
const MAX_GOP_SECONDS = 2;

/**
 * A view's bit rate when it names none (kbit/s): by pixels per second, scaled by OWT's
 * `motionFactor` (0.8 by default gives 0.06 bit per pixel; more motion needs more bits).
 */
export function defaultVideoKbps(
  width: number,
  height: number,
  framerate: number,
  motionFactor: number,
): number {
  return Math.max(200, Math.round((width * height * framerate * 0.075 * motionFactor) / 1000));
}
/**
 * Decoders start at least this far apart. Each start costs ~50 ms of CPU besides the 10–70 ms its
 * spawn holds the event loop: 16 at once (a 4×4 layout change) starved the encoder for 300–800 ms.
 * The regions meanwhile show their old decoders' frames, resized.
 */
const SPAWN_SPACING_MS = 100;
/** An encoder run's first seconds, with key frames every half second. */
const KEY_FRAME_BURST_SECONDS = 3;

/**
 * A decoder's `-vf`: scaled to its region with the view's fit policy (letterbox bars in the
 * background colour, or cropped), ending in yuv420p. Also the bare-ffmpeg reference's per-input
 * filter in bench/mcu (the same composition on both sides).
 */
export function fitFilter(
  { width: w, height: h }: { width: number; height: number },
  fitPolicy: VideoView['layout']['fitPolicy'],
  { r, g, b }: { r: number; g: number; b: number },
): string {
  const hex = ((r << 16) | (g << 8) | b).toString(16).padStart(6, '0');
  // Bilinear: ~15 % less decoder CPU than the default bicubic downscaling (bench/mcu).
  const scale = `scale=${w}:${h}:flags=bilinear`;
  const fit =
    fitPolicy === 'crop'
      ? `${scale}:force_original_aspect_ratio=increase,crop=${w}:${h}`
      : `${scale}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=0x${hex}`;
  return `${fit},setsar=1,format=yuv420p`;
}

/** One input of the mix: a room track, its region, its decoder(s) and its latest frame at the region's size. */
interface Slot {
  streamId: string;
  producerId: string;
  rect?: Rect | undefined;
  /** Decodes at the region's size (none while the layout does not show the input). */
  decoder?: InputDecoder | undefined;
  /** The decoder at the region's previous size, shown resized until `decoder`'s first frame. */
  outgoing?: InputDecoder | undefined;
  scaler?: NearestScaler | undefined;
  frame?: Buffer | undefined;
  /** Frames shown so far (the region advancing), across decoders. */
  frames: number;
  closed: boolean;
}

/**
 * A canvas buffer and what it holds, so a reused one is redrawn only where an input has a new
 * frame (the background and unchanged regions stay from its last use).
 */
interface Canvas {
  buffer: Buffer;
  layoutGeneration: number;
  /** Per input, the frame count (Slot.frames) drawn. */
  drawn: Map<Slot, number>;
}

const sameSize = (a: { width: number; height: number }, b: { width: number; height: number }) =>
  a.width === b.width && a.height === b.height;

/**
 * A view's video mixer. The mixer owns one clock (the view's frame rate): one decoder ffmpeg per
 * input turns its RTP into raw yuv420p frames already scaled to its region (fit policy applied),
 * the compositor keeps each input's latest frame and, on every tick, writes one canvas (the
 * background where no input is, an input's last frame when it is late) to the encoder ffmpeg's
 * stdin, whose RTP is produced into the room as the view's mixed video. A slow or gone input
 * never holds the others (research/mcu-baseline.md: one ffmpeg with several RTP inputs does).
 * The encoder is this pipeline's main process (restarted by the registry); decoders restart on
 * their own. A layout change starts new decoders only for the regions whose size changed, and
 * each region shows its old decoder's frames, resized, until the new one's first frame.
 */
export class VideoMixer extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #view: VideoView;
  readonly #label: string;
  readonly #codec: EncodedVideoCodec;
  readonly #width: number;
  readonly #height: number;
  readonly #frameSize: number;
  readonly #background: Buffer;
  readonly #bridge: RtpBridge;
  readonly #dir: string;
  readonly #slots = new Map<string, Slot>();
  /** Canvases written out and released by the pipe, for reuse. */
  readonly #free: Canvas[] = [];
  /** Bumped when regions may have to show the background again (layout change, input gone). */
  #layoutGeneration = 0;
  #layout: LayoutEntry[] = [];
  #output: RtpOutput | undefined;
  #relay: RtpRelay | undefined;
  #published = false;
  #clock: ReturnType<typeof setTimeout> | undefined;
  #t0 = 0;
  #ticks = 0;
  /**
   * Canvases written and dropped (the encoder did not drain its stdin in time), and the longest
   * time between two canvases written (a stalled event loop or encoder), for diagnostics.
   */
  readonly stats = { written: 0, dropped: 0, maxWriteGapMs: 0 };
  #lastWrite = 0;
  /** The encoder's current run has written a frame (and has not exited since). */
  #encoding = false;
  /** Decoders opened so far (each has its own SDP file). */
  #decoders = 0;
  /** Decoder spawns waiting for the gap after a frame, SPAWN_SPACING_MS apart (SupervisedOptions.gate). */
  readonly #spawns: (() => void)[] = [];
  #lastSpawn = 0;

  constructor(id: string, ctx: PipelineContext, view: VideoView, label: string) {
    super({ id, kind: 'mix.video', roomId: ctx.room.id }, ctx.logger);
    this.on('crashed', () => {
      this.#encoding = false;
    });
    this.#ctx = ctx;
    this.#view = view;
    this.#label = label;
    const codec = view.format.codec;
    this.#codec = codec === 'vp8' || codec === 'vp9' ? codec : 'h264';
    this.#width = 2 * Math.floor(view.parameters.resolution.width / 2);
    this.#height = 2 * Math.floor(view.parameters.resolution.height / 2);
    this.#frameSize = yuvFrameSize(this.#width, this.#height);
    this.#background = solidFrame(this.#width, this.#height, view.bgColor);
    this.#bridge = new RtpBridge(ctx.room.router);
    this.#dir = mkdtempSync(join(tmpdir(), 'tessera-mix-'));
  }

  get inputs(): readonly string[] {
    return [...this.#slots.values()].map((s) => s.producerId);
  }

  /** From the MCU baseline: x264 ultrafast ≈ 22 % of a core at 1280x960 30 fps, VP8 ≈ 3×; decoders ≈ 2 % each. */
  get weight(): number {
    const pixelsPerSecond = this.#width * this.#height * this.#view.parameters.framerate;
    const encode = ((this.#codec === 'h264' ? 0.22 : 0.5) * pixelsPerSecond) / (1280 * 960 * 30);
    return encode + 0.02 * this.#slots.size;
  }

  get canvas(): { width: number; height: number } {
    return { width: this.#width, height: this.#height };
  }

  /** The output producer (stable across encoder restarts), once prepared. */
  get producer() {
    return this.#output?.producer;
  }

  get layout(): readonly LayoutEntry[] {
    return this.#layout;
  }

  /** Frames decoded so far per input (stream id), for diagnostics and tests. */
  inputFrames(): Record<string, number> {
    return Object.fromEntries([...this.#slots.values()].map((s) => [s.streamId, s.frames]));
  }

  /** Restarted within 50–100 ms of a crash (the goal is frames again within 2 s; ffmpeg's start-up takes the rest). */
  override get restartBaseMs(): number {
    return MIXER_RESTART_MS;
  }

  protected override get stdin(): 'pipe' {
    return 'pipe';
  }

  protected override helperProcesses(): FfmpegProcess[] {
    return [...this.#slots.values()].flatMap((s) =>
      [s.decoder?.process, s.outgoing?.process].filter((p): p is FfmpegProcess => p !== undefined),
    );
  }

  protected async prepare(): Promise<void> {
    this.#output = await this.#bridge.output('video', this.#codec, {
      pipelineId: this.id,
      pipelineKind: this.kind,
    });
    if (this.closed) return;
    this.#relay = await RtpRelay.open(this.#output, 90_000, this.#codec === 'vp8', true);
    if (this.closed) {
      this.#relay.close();
      return;
    }
    this.#t0 = performance.now();
    this.#ticks = 0;
    this.#schedule();
  }

  protected ffmpegArgs(): string[] {
    const { framerate, bitrate, keyFrameInterval } = this.#view.parameters;
    const out = this.#output!;
    const kbps = bitrate ?? defaultVideoKbps(this.#width, this.#height, framerate, this.#view.motionFactor);
    const gop = String(Math.max(1, Math.round(Math.min(keyFrameInterval, MAX_GOP_SECONDS) * framerate)));
    return [
      ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${this.#width}x${this.#height}`],
      ...['-r', String(framerate), '-i', 'pipe:0'],
      ...videoEncoderArgs(this.#codec, kbps),
      ...['-g', gop, '-keyint_min', gop],
      // ffmpeg does not answer PLIs: for its first seconds (a first subscriber, or subscribers after
      // a restart, whose first key frame may have been lost) a key frame every half second.
      ...['-force_key_frames', `expr:if(lt(t,${KEY_FRAME_BURST_SECONDS}),gte(t,n_forced*0.5),0)`],
      ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-rtpflags', 'skip_rtcp'],
      ...['-f', 'rtp', this.#relay!.url],
    ];
  }

  protected override onSpawn(): void {
    this.#encoding = false;
    this.#relay?.newRun();
  }

  protected override onFirstFrame(): void {
    this.#encoding = true;
    if (this.#published || !this.#output) return;
    this.#published = true;
    const producer = this.#output.producer;
    this.addOutput({ streamId: producer.id, kind: 'video' });
    const announcement: StreamAnnouncement = {
      id: producer.id,
      owner: `pipeline:${this.id}`,
      kind: 'video',
      source: 'mixed',
      paused: false,
      label: this.#label,
      publication: mixedStreamId(this.#label),
      type: 'mixed',
    };
    void this.#ctx.publisher
      .publish(this.#ctx.room, producer, announcement, {
        kind: 'pipeline',
        pipelineId: this.id,
        pipelineKind: this.kind,
      })
      .catch((error) => this.fail(`publishing the mixed video failed: ${String(error)}`));
  }

  /** Mixes a room track (video) as input `streamId` (its publication id); a no-op when it is one already. */
  addInput(streamId: string, producerId: string): void {
    if (this.closed || this.#slots.has(streamId)) return;
    const slot: Slot = { streamId, producerId, frames: 0, closed: false };
    this.#slots.set(streamId, slot);
    this.#decode(slot);
  }

  removeInput(streamId: string): void {
    const slot = this.#slots.get(streamId);
    if (!slot) return;
    this.#slots.delete(streamId);
    this.#layoutGeneration++;
    slot.closed = true;
    slot.decoder?.close();
    slot.outgoing?.close();
  }

  /** The whole layout: which input shows in which region. Only regions whose size changed get new decoders. */
  setLayout(layout: readonly LayoutEntry[]): void {
    this.#layout = [...layout];
    this.#layoutGeneration++;
    const rects = new Map<string, Rect>();
    for (const entry of layout)
      if (entry.stream !== undefined && !rects.has(entry.stream))
        rects.set(entry.stream, pixelRect(entry.region.area, this.canvas));
    for (const slot of this.#slots.values()) {
      const before = slot.rect;
      slot.rect = rects.get(slot.streamId);
      // Its last frame, resized, until a decoder of the new size (or the old one, resized) has one.
      if (before && slot.rect && slot.frame && !sameSize(before, slot.rect))
        slot.frame = new NearestScaler(before, slot.rect).scale(slot.frame);
      this.#decode(slot);
    }
  }

  /**
   * Makes a slot's decoding match its region: no decoder without a region; a new decoder when the
   * size changed, the old one kept (make before break) until the new one's first frame when it
   * has shown frames, closed when it has not (nothing to bridge with).
   */
  #decode(slot: Slot): void {
    const rect = slot.rect;
    if (!rect || slot.closed || this.closed) {
      slot.decoder?.close();
      slot.outgoing?.close();
      slot.decoder = slot.outgoing = undefined;
      slot.frame = undefined;
      return;
    }
    const current = slot.decoder;
    if (current && sameSize(current.size, rect)) return;
    if (current && current.frames > 0) {
      slot.outgoing?.close();
      slot.outgoing = current;
    } else current?.close();
    // Back to the size the outgoing decoder has (a change undone before the new one started).
    if (slot.outgoing && sameSize(slot.outgoing.size, rect)) {
      slot.decoder = slot.outgoing;
      slot.outgoing = undefined;
      return;
    }
    slot.decoder = this.#openDecoder(slot, rect);
  }

  #openDecoder(slot: Slot, size: Rect): InputDecoder {
    const decoder = new InputDecoder({
      room: this.#ctx.room,
      bridge: this.#bridge,
      producerId: slot.producerId,
      sdpPath: join(this.#dir, `${++this.#decoders}-${slot.producerId}.sdp`),
      size,
      filter: fitFilter(size, this.#view.layout.fitPolicy, this.#view.bgColor),
      logger: this.logger,
      ready: () => this.#encoding,
      gate: (spawn) => {
        // Before the clock runs (or after it stopped) nothing paces: spawn now.
        if (this.#clock === undefined || this.closed) spawn();
        else this.#spawns.push(spawn);
      },
    });
    decoder.on('frame', (frame) => this.#onFrame(slot, decoder, frame));
    decoder.on('failed', (error) => {
      this.logger.warn('mixer input failed', { streamId: slot.streamId, error: String(error) });
      this.removeInput(slot.streamId);
    });
    decoder.on('producerclose', () => this.removeInput(slot.streamId));
    return decoder;
  }

  #onFrame(slot: Slot, decoder: InputDecoder, frame: Buffer): void {
    const rect = slot.rect;
    if (!rect || slot.closed) return;
    if (decoder === slot.decoder) {
      // The region's own size: the outgoing decoder's work is done.
      if (slot.outgoing) {
        slot.outgoing.close();
        slot.outgoing = slot.scaler = undefined;
      }
      // The frame it replaces is drawn no more (each tick copies): its buffer takes a later one.
      if (slot.frame) decoder.recycle(slot.frame);
      slot.frame = frame;
    } else if (decoder === slot.outgoing) {
      if (!slot.scaler || !sameSize(slot.scaler.from, decoder.size) || !sameSize(slot.scaler.to, rect))
        slot.scaler = new NearestScaler(decoder.size, rect);
      // Into the region's current frame's buffer when it has the size (ticks copy, nothing else holds it).
      slot.frame = slot.scaler.scale(frame, slot.frame);
      decoder.recycle(frame);
    } else return;
    slot.frames++;
  }

  #schedule(): void {
    const interval = 1000 / this.#view.parameters.framerate;
    const now = performance.now();
    // Far behind (a stalled event loop): skip the missed ticks rather than burst them.
    if (now - (this.#t0 + this.#ticks * interval) > 5 * interval) {
      this.#t0 = now;
      this.#ticks = 0;
    }
    this.#ticks++;
    const due = this.#t0 + this.#ticks * interval;
    this.#clock = setTimeout(
      () => {
        this.#tick();
        this.#spawnWaiting();
        if (!this.closed) this.#schedule();
      },
      Math.max(0, due - now),
    );
  }

  /** A waiting decoder spawn, in the gap before the next frame, if the last one is far enough. */
  #spawnWaiting(): void {
    const now = performance.now();
    if (this.#spawns.length === 0 || now - this.#lastSpawn < SPAWN_SPACING_MS) return;
    this.#lastSpawn = now;
    this.#spawns.shift()!();
  }

  #tick(): void {
    const stdin = this.process?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return;
    // Backpressure: the encoder has not taken the previous canvas yet; drop this one, never queue.
    if (stdin.writableLength > this.#frameSize) {
      this.stats.dropped++;
      return;
    }
    // A canvas the pipe no longer holds (reused: a fresh 1.4 MB allocation per frame costs page faults).
    const canvas = this.#free.pop() ?? {
      buffer: Buffer.allocUnsafe(this.#frameSize),
      layoutGeneration: -1,
      drawn: new Map<Slot, number>(),
    };
    if (canvas.layoutGeneration !== this.#layoutGeneration) {
      this.#background.copy(canvas.buffer);
      canvas.drawn.clear();
      canvas.layoutGeneration = this.#layoutGeneration;
    }
    // Only the regions whose input has a frame this canvas does not hold yet.
    for (const slot of this.#slots.values())
      if (slot.rect && slot.frame && canvas.drawn.get(slot) !== slot.frames) {
        blit(canvas.buffer, this.#width, this.#height, slot.frame, slot.rect);
        canvas.drawn.set(slot, slot.frames);
      }
    const now = performance.now();
    if (this.#lastWrite) this.stats.maxWriteGapMs = Math.max(this.stats.maxWriteGapMs, now - this.#lastWrite);
    this.#lastWrite = now;
    stdin.write(canvas.buffer, () => {
      if (this.#free.length < 3) this.#free.push(canvas);
    });
    this.stats.written++;
  }

  protected release(): void {
    clearTimeout(this.#clock);
    this.#spawns.length = 0;
    this.#relay?.close();
    for (const streamId of [...this.#slots.keys()]) this.removeInput(streamId);
    if (this.#published && this.#output && !this.#ctx.room.closed)
      this.#ctx.publisher.unpublish(this.#ctx.room, this.#output.producer.id);
    this.#bridge.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
