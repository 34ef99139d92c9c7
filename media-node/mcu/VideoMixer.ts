import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedStreamId, type ResolvedView } from '../../shared/protocol/mcu.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { Pipeline, type PipelineContext } from '../pipelines/Pipeline.ts';
import { type OutputCodec, RtpBridge, type RtpInput, type RtpOutput } from '../pipelines/RtpBridge.ts';
import { blit, scaleNearest, solidFrame, yuvFrameSize } from './canvas.ts';
import { type LayoutEntry, pixelRect, type Rect } from './layout.ts';
import { openMixerInput } from './openMixerInput.ts';
import { RtpRelay } from './RtpRelay.ts';
import { FrameAssembler, SupervisedFfmpeg } from './SupervisedFfmpeg.ts';

export type VideoView = Exclude<ResolvedView['video'], false>;

/**
 * Until a decoder's first frame, its sender is asked for a key frame this often. Often: a PLI sent
 * before the new decoder has bound its port is lost, and every lost one delays the region (a
 * layout change, a crash) by a full retry. Browsers answer a PLI within a frame or two.
 */
const KEY_FRAME_RETRY_MS = 250;
/** A crashed decoder's first respawn (then it waits for the encoder: SupervisedOptions.ready). */
const DECODER_RESPAWN_MS = 300;
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
/** An encoder run's first seconds, with key frames every half second. */
const KEY_FRAME_BURST_SECONDS = 3;

/** One input of the mix: a room track, its RTP into a decoder, and its latest scaled frame. */
interface Slot {
  streamId: string;
  producerId: string;
  input?: RtpInput | undefined;
  sdpPath: string;
  rect?: Rect | undefined;
  decoder?: SupervisedFfmpeg | undefined;
  frame?: Buffer | undefined;
  frames: number;
  keyFrames?: ReturnType<typeof setInterval> | undefined;
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

/**
 * A view's video mixer. The mixer owns one clock (the view's frame rate): one decoder ffmpeg per
 * input turns its RTP into raw yuv420p frames already scaled to its region (fit policy applied),
 * the compositor keeps each input's latest frame and, on every tick, writes one canvas (the
 * background where no input is, an input's last frame when it is late) to the encoder ffmpeg's
 * stdin, whose RTP is produced into the room as the view's mixed video. A slow or gone input
 * never holds the others (research/mcu-baseline.md: one ffmpeg with several RTP inputs does).
 * The encoder is this pipeline's main process (restarted by the registry); decoders restart on
 * their own. A layout change restarts only the decoders whose region size changed.
 */
export class VideoMixer extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #view: VideoView;
  readonly #label: string;
  readonly #codec: OutputCodec;
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

  protected override get stdin(): 'pipe' {
    return 'pipe';
  }

  protected override helperProcesses(): FfmpegProcess[] {
    return [...this.#slots.values()].flatMap((s) => (s.decoder?.process ? [s.decoder.process] : []));
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
    const rate = `${kbps}k`;
    const gop = String(Math.max(1, Math.round(Math.min(keyFrameInterval, MAX_GOP_SECONDS) * framerate)));
    const encoder =
      this.#codec === 'h264'
        ? [
            ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
            ...['-bf', '0'],
          ]
        : this.#codec === 'vp8'
          ? // cpu-used 16: VP8 at lower settings collapsed under contention (research/mcu-baseline.md §1).
            ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16', '-lag-in-frames', '0']
          : [
              ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1'],
              ...['-lag-in-frames', '0', '-strict', 'experimental'],
            ];
    return [
      ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${this.#width}x${this.#height}`],
      ...['-r', String(framerate), '-i', 'pipe:0'],
      ...encoder,
      ...(this.#codec === 'h264' ? [] : ['-error-resilient', '1', '-auto-alt-ref', '0']),
      ...['-pix_fmt', 'yuv420p', '-threads', '1', '-b:v', rate, '-maxrate', rate, '-bufsize', rate],
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
    const slot: Slot = {
      streamId,
      producerId,
      sdpPath: join(this.#dir, `${this.#slots.size}-${producerId}.sdp`),
      frames: 0,
      closed: false,
    };
    this.#slots.set(streamId, slot);
    void this.#bridgeInput(slot).catch((error) => {
      this.logger.warn('mixer input failed', { streamId, error: String(error) });
      this.removeInput(streamId);
    });
  }

  async #bridgeInput(slot: Slot): Promise<void> {
    const input = await openMixerInput(
      this.#ctx.room,
      this.#bridge,
      slot,
      () => slot.closed || this.closed,
      () => this.removeInput(slot.streamId),
    );
    if (!input) return;
    slot.input = input;
    this.#startDecoder(slot);
  }

  removeInput(streamId: string): void {
    const slot = this.#slots.get(streamId);
    if (!slot) return;
    this.#slots.delete(streamId);
    this.#layoutGeneration++;
    slot.closed = true;
    this.#stopDecoder(slot);
    if (slot.input) this.#bridge.closeInput(slot.input);
  }

  /** The whole layout: which input shows in which region. Only decoders whose region size changed restart. */
  setLayout(layout: readonly LayoutEntry[]): void {
    this.#layout = [...layout];
    this.#layoutGeneration++;
    const rects = new Map<string, Rect>();
    for (const entry of layout)
      if (entry.stream !== undefined && !rects.has(entry.stream))
        rects.set(entry.stream, pixelRect(entry.region.area, this.canvas));
    for (const slot of this.#slots.values()) {
      const rect = rects.get(slot.streamId);
      const before = slot.rect;
      slot.rect = rect;
      if (!rect) {
        this.#stopDecoder(slot);
        slot.frame = undefined;
      } else if (!before || before.width !== rect.width || before.height !== rect.height) {
        // The last frame, resized, bridges the gap until the restarted decoder's first frame.
        slot.frame = before && slot.frame ? scaleNearest(slot.frame, before, rect) : undefined;
        this.#startDecoder(slot);
      }
    }
  }

  #startDecoder(slot: Slot): void {
    if (!slot.input || !slot.rect || slot.closed || this.closed) return;
    const { width, height } = slot.rect;
    if (slot.decoder) {
      slot.decoder.restart();
      return;
    }
    const decoder = new SupervisedFfmpeg({
      name: `decoder ${slot.streamId}`,
      logger: this.logger,
      stdout: 'raw',
      respawnMs: DECODER_RESPAWN_MS,
      ready: () => this.#encoding,
      args: () => this.#decoderArgs(slot),
    });
    slot.decoder = decoder;
    let assembler: FrameAssembler | undefined;
    decoder.on('spawn', () => {
      const rect = slot.rect ?? { width, height };
      let first = true;
      const assembling = new FrameAssembler(yuvFrameSize(rect.width, rect.height), (frame) => {
        // A frame of an older size (the region changed since this run started) is not drawn.
        if (!slot.rect || frame.length !== yuvFrameSize(slot.rect.width, slot.rect.height)) return;
        // The frame it replaces is drawn no more (each tick copies): its buffer takes the next one.
        if (slot.frame) assembling.recycle(slot.frame);
        slot.frame = frame;
        slot.frames++;
        if (first) {
          first = false;
          clearInterval(slot.keyFrames);
        }
      });
      // A decoder starts at a key frame: ask for one now and until its first frame.
      clearInterval(slot.keyFrames);
      const ask = () => void slot.input?.consumer.requestKeyFrame().catch(() => {});
      ask();
      slot.keyFrames = setInterval(ask, KEY_FRAME_RETRY_MS);
      slot.keyFrames.unref();
      assembler = assembling;
    });
    decoder.on('data', (chunk) => assembler?.push(chunk));
    decoder.restart();
  }

  #stopDecoder(slot: Slot): void {
    clearInterval(slot.keyFrames);
    slot.decoder?.close();
    slot.decoder = undefined;
  }

  #decoderArgs(slot: Slot): string[] {
    const { width: w, height: h } = slot.rect ?? { width: 2, height: 2 };
    const { r, g, b } = this.#view.bgColor;
    const hex = ((r << 16) | (g << 8) | b).toString(16).padStart(6, '0');
    // Bilinear: ~15 % less decoder CPU than the default bicubic downscaling (bench/mcu).
    const scale = `scale=${w}:${h}:flags=bilinear`;
    const fit =
      this.#view.layout.fitPolicy === 'crop'
        ? `${scale}:force_original_aspect_ratio=increase,crop=${w}:${h}`
        : `${scale}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=0x${hex}`;
    return [
      // Low delay (research/mcu-baseline.md §2): no demuxer buffering, no frame threading.
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
      // One filter thread too: the default (one per core) costs more than it saves at cell sizes.
      ...['-threads', '1', '-filter_threads', '1', '-reorder_queue_size', '0', '-i', slot.sdpPath],
      ...['-map', '0:v:0', '-an', '-vf', `${fit},setsar=1,format=yuv420p`],
      // Every decoded frame as it comes: the compositor's clock, not ffmpeg's, paces the mix.
      ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'],
    ];
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
        if (!this.closed) this.#schedule();
      },
      Math.max(0, due - now),
    );
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
    this.#relay?.close();
    for (const streamId of [...this.#slots.keys()]) this.removeInput(streamId);
    if (this.#published && this.#output && !this.#ctx.room.closed)
      this.#ctx.publisher.unpublish(this.#ctx.room, this.#output.producer.id);
    this.#bridge.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
