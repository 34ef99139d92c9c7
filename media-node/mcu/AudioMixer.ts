import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedStreamId } from '../../shared/protocol/mcu.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { Pipeline, type PipelineContext } from '../pipelines/Pipeline.ts';
import { OUTPUT_CODECS, RtpBridge, type RtpInput, type RtpOutput } from '../pipelines/RtpBridge.ts';
import { openMixerInput } from './openMixerInput.ts';
import { Limiter, mixInto, rms, VoiceActivity } from './pcm.ts';
import { RtpRelay } from './RtpRelay.ts';
import { MIXER_RESTART_MS, SupervisedFfmpeg } from './SupervisedFfmpeg.ts';

/** 20 ms of 48 kHz mono s16le: the mixer's tick. */
export const SAMPLES_PER_TICK = 960;
const TICK_BYTES = SAMPLES_PER_TICK * 2;
const TICK_MS = 20;
/** An input starts being mixed once this much is buffered (absorbs the decoder's bursts). */
const PRIME_BYTES = 2 * TICK_BYTES;
/** Inputs one audio mix takes at most (each costs a decoder); later ones are not mixed. */
export const MAX_AUDIO_INPUTS = 64;
/** At most this much is kept per input: older audio is dropped, latency stays bounded. */
const MAX_BUFFER_BYTES = 10 * TICK_BYTES;
/** A clock this far behind skips the missed ticks rather than bursting them (their audio is gone). */
const MAX_CATCH_UP_TICKS = 10;
/** Participants with their own mix-minus at most (each costs an encoder); later ones get the mix. */
export const MAX_MIX_MINUS = 64;

interface Slot {
  streamId: string;
  producerId: string;
  /** The participant whose input this is (their mix-minus leaves it out). */
  owner: string | undefined;
  input?: RtpInput | undefined;
  sdpPath: string;
  decoder?: SupervisedFfmpeg | undefined;
  buffer: Buffer;
  primed: boolean;
  /** This tick's samples (silence when late or absent). */
  current: Int16Array;
  closed: boolean;
}

/** A participant's own mix without their voice: an extra encoder fed the mix minus their inputs. */
interface MinusOut {
  peerId: string;
  output: RtpOutput;
  relay: RtpRelay;
  encoder: SupervisedFfmpeg;
  limiter: Limiter;
}

/** What a view's mixed audio is encoded as (the view's `audio.format.codec`). */
export type MixedAudioCodec = 'opus' | 'pcmu' | 'pcma' | 'g722';

export interface AudioMixerOptions {
  label: string;
  vad: boolean;
  /** opus unless given (PCMU, PCMA and G.722 for telephony, e.g. a SIP gateway). */
  codec?: MixedAudioCodec | undefined;
  /** Voice activity chose a new active input (its stream id). */
  onActiveInput?: ((streamId: string) => void) | undefined;
  /**
   * Only mix-minus outputs: the common mix is not published (a node that is not the room's
   * mixing host: its listeners subscribe to the host's mix, piped here, and get their mix-minus
   * from this node, which holds every audio track of the room).
   */
  mixMinusOnly?: boolean | undefined;
}

/**
 * A view's audio mixer, on its own 20 ms clock: one decoder ffmpeg per input (RTP opus → 48 kHz
 * mono s16le on stdout); every tick it takes 960 samples from each input (silence for one that is
 * late or absent: it never waits), sums them (limited, not clipped) and writes the mix to the encoder
 * ffmpeg's stdin (libopus → RTP → the view's mixed audio). Voice activity (RMS with hysteresis)
 * picks the active input. Mix-minus: a participant who may publish audio and subscribes to the
 * mix gets their own producer, fed by an extra encoder with the mix minus whatever inputs are
 * theirs at each tick (created on demand by mixMinusFor(), per participant and not per input: a
 * participant subscribes at login, before their own audio is published and mixed).
 */
export class AudioMixer extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #o: AudioMixerOptions;
  readonly #bridge: RtpBridge;
  readonly #dir: string;
  readonly #slots = new Map<string, Slot>();
  readonly #minus = new Map<string, MinusOut>();
  readonly #pendingMinus = new Map<string, Promise<string | undefined>>();
  readonly #vad = new VoiceActivity();
  readonly #limiter = new Limiter();
  #output: RtpOutput | undefined;
  #relay: RtpRelay | undefined;
  #published = false;
  #clock: ReturnType<typeof setTimeout> | undefined;
  #t0 = 0;
  #ticks = 0;
  #activeInput: string | undefined;

  constructor(id: string, ctx: PipelineContext, options: AudioMixerOptions) {
    super({ id, kind: 'mix.audio', roomId: ctx.room.id }, ctx.logger);
    this.#ctx = ctx;
    this.#o = options;
    this.#bridge = new RtpBridge(ctx.room.router);
    this.#dir = mkdtempSync(join(tmpdir(), 'tessera-amix-'));
  }

  get #codec(): MixedAudioCodec {
    return this.#o.codec ?? 'opus';
  }

  get inputs(): readonly string[] {
    return [...this.#slots.values()].map((s) => s.producerId);
  }

  /** An opus encode ≈ 1 % of a core, a decode less. */
  get weight(): number {
    return 0.01 * (1 + this.#minus.size) + 0.005 * this.#slots.size;
  }

  get producer() {
    return this.#output?.producer;
  }

  get activeInput(): string | undefined {
    return this.#activeInput;
  }

  /** The stream ids mixed now. */
  get streams(): string[] {
    return [...this.#slots.keys()];
  }

  /** Restarted within 50–100 ms of a crash (the goal is frames again within 2 s; ffmpeg's start-up takes the rest). */
  override get restartBaseMs(): number {
    return MIXER_RESTART_MS;
  }

  protected override get stdin(): 'pipe' {
    return 'pipe';
  }

  protected override helperProcesses(): FfmpegProcess[] {
    return [
      ...[...this.#slots.values()].flatMap((s) => (s.decoder?.process ? [s.decoder.process] : [])),
      ...[...this.#minus.values()].flatMap((m) => (m.encoder.process ? [m.encoder.process] : [])),
    ];
  }

  protected async prepare(): Promise<void> {
    this.#output = await this.#bridge.output('audio', this.#codec, {
      pipelineId: this.id,
      pipelineKind: this.kind,
    });
    if (this.closed) return;
    // The mix paused (REST `/media/audio/status`) pauses everyone's own mix with it.
    const main = this.#output.producer;
    main.observer.on('pause', () => {
      for (const m of this.#minus.values()) void m.output.producer.pause().catch(() => {});
    });
    main.observer.on('resume', () => {
      for (const m of this.#minus.values()) void m.output.producer.resume().catch(() => {});
    });
    this.#relay = await RtpRelay.open(this.#output, OUTPUT_CODECS[this.#codec].clockRate);
    if (this.closed) {
      this.#relay.close();
      return;
    }
    this.#t0 = performance.now();
    this.#ticks = 0;
    this.#schedule();
  }

  protected ffmpegArgs(): string[] {
    return encoderArgs(this.#codec, this.#output!, this.#relay!);
  }

  protected override onSpawn(): void {
    this.#relay?.newRun();
  }

  protected override onFirstFrame(): void {
    if (this.#published || !this.#output || this.#o.mixMinusOnly) return;
    this.#published = true;
    const producer = this.#output.producer;
    this.addOutput({ streamId: producer.id, kind: 'audio' });
    const announcement: StreamAnnouncement = {
      id: producer.id,
      owner: `pipeline:${this.id}`,
      kind: 'audio',
      source: 'mixed',
      paused: false,
      label: this.#o.label,
      publication: mixedStreamId(this.#o.label),
      type: 'mixed',
    };
    void this.#ctx.publisher
      .publish(this.#ctx.room, producer, announcement, {
        kind: 'pipeline',
        pipelineId: this.id,
        pipelineKind: this.kind,
      })
      .catch((error) => this.fail(`publishing the mixed audio failed: ${String(error)}`));
  }

  addInput(streamId: string, producerId: string, owner?: string): void {
    if (this.closed || this.#slots.has(streamId)) return;
    if (this.#slots.size >= MAX_AUDIO_INPUTS) {
      this.logger.warn('audio mix is full: input not mixed', { streamId, max: MAX_AUDIO_INPUTS });
      return;
    }
    const slot: Slot = {
      streamId,
      producerId,
      owner,
      sdpPath: join(this.#dir, `${this.#slots.size}-${producerId}.sdp`),
      buffer: Buffer.alloc(0),
      primed: false,
      current: new Int16Array(SAMPLES_PER_TICK),
      closed: false,
    };
    this.#slots.set(streamId, slot);
    void this.#bridgeInput(slot).catch((error) => {
      this.logger.warn('audio mixer input failed', { streamId, error: String(error) });
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
    const decoder = new SupervisedFfmpeg({
      name: `audio decoder ${slot.streamId}`,
      logger: this.logger,
      stdout: 'raw',
      args: () => [
        ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
        ...['-reorder_queue_size', '0', '-i', slot.sdpPath, '-map', '0:a:0', '-vn'],
        ...['-f', 's16le', '-ar', '48000', '-ac', '1', 'pipe:1'],
      ],
    });
    slot.decoder = decoder;
    decoder.on('spawn', () => {
      slot.buffer = Buffer.alloc(0);
      slot.primed = false;
    });
    decoder.on('data', (chunk) => {
      let buffer = Buffer.concat([slot.buffer, chunk]);
      if (buffer.length > MAX_BUFFER_BYTES) buffer = buffer.subarray(buffer.length - MAX_BUFFER_BYTES);
      // Keep whole samples only.
      slot.buffer = buffer.length % 2 ? buffer.subarray(1) : buffer;
    });
    decoder.restart();
  }

  removeInput(streamId: string): void {
    const slot = this.#slots.get(streamId);
    if (!slot) return;
    this.#slots.delete(streamId);
    slot.closed = true;
    slot.decoder?.close();
    if (slot.input) this.#bridge.closeInput(slot.input);
    this.#vad.forget(streamId);
    if (this.#activeInput === streamId) this.#activeInput = undefined;
  }

  /**
   * The producer of the mix without participant `peerId`'s inputs (for their subscription),
   * created on first use: an output producer now (subscribable at once), its encoder in the
   * background. Undefined past MAX_MIX_MINUS participants (they get the whole mix).
   */
  mixMinusFor(peerId: string): Promise<string | undefined> {
    const existing = this.#minus.get(peerId);
    if (existing) return Promise.resolve(existing.output.producer.id);
    const pending = this.#pendingMinus.get(peerId);
    if (pending) return pending;
    if (this.closed) return Promise.resolve(undefined);
    if (this.#minus.size + this.#pendingMinus.size >= MAX_MIX_MINUS) {
      this.logger.warn('mix-minus outputs are full: the participant gets the whole mix', {
        peerId,
        max: MAX_MIX_MINUS,
      });
      return Promise.resolve(undefined);
    }
    const creating = (async () => {
      const output = await this.#bridge.output('audio', this.#codec, {
        pipelineId: this.id,
        pipelineKind: this.kind,
        mixMinus: peerId,
      });
      if (this.closed) {
        output.producer.close();
        return undefined;
      }
      const relay = await RtpRelay.open(output, OUTPUT_CODECS[this.#codec].clockRate);
      if (this.closed) {
        relay.close();
        output.producer.close();
        return undefined;
      }
      const encoder = new SupervisedFfmpeg({
        name: `mix-minus encoder ${peerId}`,
        logger: this.logger,
        stdin: 'pipe',
        stdout: 'progress',
        args: () => encoderArgs(this.#codec, output, relay),
      });
      encoder.on('spawn', () => relay.newRun());
      if (this.#output?.producer.paused) await output.producer.pause();
      this.#minus.set(peerId, { peerId, output, relay, encoder, limiter: new Limiter() });
      encoder.restart();
      return output.producer.id;
    })().finally(() => this.#pendingMinus.delete(peerId));
    this.#pendingMinus.set(peerId, creating);
    return creating;
  }

  /** Whether one of the mixed inputs is `peerId`'s. */
  hasInputOf(peerId: string): boolean {
    for (const slot of this.#slots.values()) if (slot.owner === peerId) return true;
    return false;
  }

  /** The participant left: their mix-minus output goes (its consumers close with the producer). */
  dropMixMinus(peerId: string): void {
    const minus = this.#minus.get(peerId);
    if (!minus) return;
    this.#minus.delete(peerId);
    minus.encoder.close();
    minus.relay.close();
    minus.output.producer.close();
  }

  /** The participant whose mix-minus producer this is (undefined for any other producer). */
  mixMinusOwner(producerId: string): string | undefined {
    for (const m of this.#minus.values()) if (m.output.producer.id === producerId) return m.peerId;
    return undefined;
  }

  #schedule(): void {
    const now = performance.now();
    // Behind (a stalled event loop): the missed ticks run now, in a burst, so that inputs do not
    // pile up (their backlog would be latency); beyond MAX_BUFFER_BYTES it is dropped anyway.
    const behind = Math.floor((now - (this.#t0 + this.#ticks * TICK_MS)) / TICK_MS);
    if (behind > MAX_CATCH_UP_TICKS) {
      this.#t0 = now;
      this.#ticks = 0;
    }
    this.#ticks++;
    const due = this.#t0 + this.#ticks * TICK_MS;
    this.#clock = setTimeout(
      () => {
        this.#tick();
        while (!this.closed && performance.now() - (this.#t0 + this.#ticks * TICK_MS) >= TICK_MS) {
          if (performance.now() - (this.#t0 + this.#ticks * TICK_MS) > MAX_CATCH_UP_TICKS * TICK_MS) break;
          this.#ticks++;
          this.#tick();
        }
        if (!this.closed) this.#schedule();
      },
      Math.max(0, due - now),
    );
  }

  #tick(): void {
    const sum = new Int32Array(SAMPLES_PER_TICK);
    const levels = new Map<string, number>();
    for (const slot of this.#slots.values()) {
      if (!slot.primed && slot.buffer.length >= PRIME_BYTES) slot.primed = true;
      if (slot.primed && slot.buffer.length >= TICK_BYTES) {
        const chunk = slot.buffer.subarray(0, TICK_BYTES);
        slot.current = new Int16Array(SAMPLES_PER_TICK);
        for (let i = 0; i < SAMPLES_PER_TICK; i++) slot.current[i] = chunk.readInt16LE(2 * i);
        slot.buffer = slot.buffer.subarray(TICK_BYTES);
      } else {
        // Late or gone: silence this tick, and buffer again before playing it.
        slot.primed = false;
        slot.current = new Int16Array(SAMPLES_PER_TICK);
      }
      mixInto(sum, slot.current, 1);
      levels.set(slot.streamId, rms(slot.current));
    }
    write(this.process?.stdin, this.#limiter.process(sum));
    for (const m of this.#minus.values()) {
      const minus = Int32Array.from(sum);
      for (const slot of this.#slots.values()) if (slot.owner === m.peerId) mixInto(minus, slot.current, -1);
      write(m.encoder.process?.stdin, m.limiter.process(minus));
    }
    if (this.#o.vad) {
      const active = this.#vad.update(levels);
      if (active !== undefined && active !== this.#activeInput) {
        this.#activeInput = active;
        try {
          this.#o.onActiveInput?.(active);
        } catch (error) {
          this.logger.warn('active input listener failed', { error });
        }
      }
    }
  }

  protected release(): void {
    clearTimeout(this.#clock);
    this.#relay?.close();
    for (const streamId of [...this.#slots.keys()]) this.removeInput(streamId);
    for (const peerId of [...this.#minus.keys()]) this.dropMixMinus(peerId);
    if (this.#published && this.#output && !this.#ctx.room.closed)
      this.#ctx.publisher.unpublish(this.#ctx.room, this.#output.producer.id);
    this.#bridge.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The encoder per codec: opus in 20 ms frames; the telephony codecs at their own sample rates. */
// biome-ignore format: ffmpeg arguments read best as option/value pairs
const ENCODERS: Record<MixedAudioCodec, string[]> = {
  opus: ['-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-frame_duration', '20'],
  pcmu: ['-ar', '8000', '-c:a', 'pcm_mulaw'],
  pcma: ['-ar', '8000', '-c:a', 'pcm_alaw'],
  g722: ['-ar', '16000', '-c:a', 'g722'],
};

/** Whether a view's audio format is one the mixer encodes. */
export function isMixedAudioCodec(codec: string): codec is MixedAudioCodec {
  return Object.hasOwn(ENCODERS, codec);
}

function encoderArgs(codec: MixedAudioCodec, out: RtpOutput, relay: RtpRelay): string[] {
  return [
    ...['-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0'],
    ...ENCODERS[codec],
    ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-rtpflags', 'skip_rtcp'],
    ...['-f', 'rtp', relay.url],
  ];
}

/** Writes one tick of PCM unless the encoder is behind (dropped, never queued without bound). */
function write(stdin: NodeJS.WritableStream | undefined, pcm: Buffer): void {
  const s = stdin as (NodeJS.WritableStream & { writableLength?: number; destroyed?: boolean }) | undefined;
  if (!s || s.destroyed || !s.writable || (s.writableLength ?? 0) > 10 * TICK_BYTES) return;
  s.write(pcm);
}
