import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { types } from 'mediasoup';
import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { BlobInfo, BlobStore } from '../../shared/ports/blobs.ts';
import { type RecordParams, RecordParamsSchema } from '../../shared/protocol/commands.ts';
import {
  containerFor,
  type RecordingContainer,
  refusedCodecs,
} from '../../shared/protocol/http/recording.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { exactSizeFilters, videoEncoderArgs } from '../ffmpeg/videoEncoders.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpInput } from '../pipelines/RtpBridge.ts';
import { consumeTracks, switchTracks, trackOfKind } from '../pipelines/tracks.ts';
import { removeSidecar, writeSidecar } from './RecordingRecovery.ts';

/** Until the first frame is written, key frames are asked for this often (a file starts at one). */
const KEY_FRAME_RETRY_MS = 1000;
/** A recording's trailer (mp4 index, mkv cues) needs time to be written after SIGINT. */
const TRAILER_GRACE_MS = 5000;
/**
 * How much a killed recorder loses at most: mkv clusters and mp4 fragments are closed and
 * flushed to the file this often (research/streaming-peers.md §4: without it a SIGKILL left one
 * 256 KiB buffer of mkv, and an unfragmented mp4 nothing readable).
 */
const FLUSH_SECONDS = 1;

type Container = RecordingContainer;

/** ffmpeg's audio encoders, at the rates and channels each codec is recorded with. */
const AUDIO_ENCODERS: Record<NonNullable<RecordParams['audioCodec']>, string[]> = {
  aac: ['-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2'],
  opus: ['-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2'],
  pcmu: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'],
  pcma: ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1'],
  g722: ['-c:a', 'g722', '-ar', '16000', '-ac', '1'],
};

const EXTENSION: Record<Container, string> = { mkv: 'mkv', webm: 'webm', mp4: 'mp4' };
const CONTENT_TYPE: Record<Container, string> = {
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  mp4: 'video/mp4',
};

/** What a recording has written so far. */
export interface RecordingInfo {
  container: Container;
  /** The files written, one per ffmpeg run (a crash and restart, or a switch, starts the next part). */
  files: string[];
  /** The parts in the blob store, each once its run has ended. */
  stored: BlobInfo[];
  bytes: number;
  /** Media time written by the current run (ms). */
  durationMs: number;
}

/**
 * OWT's recording: a room's audio and/or video track (they may come from different streams)
 * copied as they are into an mkv, webm or mp4 file (no re-encoding: ~1 % of a core), or
 * re-encoded when the params ask for a codec or video parameters (RecordParams), written so
 * that a killed node leaves a file that plays up to its last second (mkv clusters and fragmented
 * mp4 flushed every second). A crash restarts ffmpeg into the next part file. Ends when an input
 * goes (unpublished, its participant left) or on stop (SIGINT: the trailer is written).
 */
export class Recorder extends Pipeline {
  readonly #ctx: PipelineContext;
  #inputIds: string[];
  /** The kind taken from each input when they name publications (RecordParams.kinds). */
  readonly #kinds: ('audio' | 'video')[] | undefined;
  #finished!: (info: RecordingInfo) => void;
  /** Resolves once the recording has closed and its last part is stored: what it wrote. */
  readonly finished = new Promise<RecordingInfo>((resolve) => {
    this.#finished = resolve;
  });
  readonly #params: RecordParams;
  readonly #dir: string;
  readonly #bridge: RtpBridge;
  /** Holds the receive SDPs ffmpeg opens. */
  #work: string | undefined;
  readonly #inputs: RtpInput[] = [];
  #container: Container = 'mkv';
  readonly #files: string[] = [];
  readonly #blobs: BlobStore | undefined;
  readonly #stored: BlobInfo[] = [];
  #outTimeUs = 0;
  /** The current run, to let it finish its file before the inputs close. */
  #ffmpeg: FfmpegProcess | undefined;
  /** The current part's way into the blob store, once its run ends. */
  #storing: Promise<void> = Promise.resolve();
  /** Stops asking for key frames (at the first frame). */
  #stopKeyFrames: (() => void) | undefined;

  /**
   * `dir`: where ffmpeg writes each part. `blobs`: where a part goes once its run has ended (a
   * local store over `dir` keeps it in place; S3 uploads it and the spooled file is removed).
   */
  constructor(spec: PipelineSpec, ctx: PipelineContext, options: { dir: string; blobs?: BlobStore }) {
    super(spec, ctx.logger);
    const parsed = RecordParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid record params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    const kinds = parsed.data.kinds?.split('+');
    if (
      spec.inputs.length < 1 ||
      spec.inputs.length > 2 ||
      (kinds ? kinds.length !== spec.inputs.length : new Set(spec.inputs).size !== spec.inputs.length)
    )
      throw new ValidationError('a recording takes one audio and/or one video track', [
        {
          path: 'inputs',
          message: kinds ? `one input per kind (${parsed.data.kinds})` : 'one or two distinct track ids',
        },
      ]);
    this.#kinds = kinds as ('audio' | 'video')[] | undefined;
    this.#ctx = ctx;
    this.#inputIds = [...spec.inputs];
    this.#params = parsed.data;
    this.#dir = options.dir;
    this.#blobs = options.blobs;
    this.#bridge = new RtpBridge(ctx.room.router);
  }

  get inputs(): readonly string[] {
    return this.#inputIds;
  }

  /** A copy: about 1 % of a core; a video encode as a transcoder's (Transcoder.weight). */
  get weight(): number {
    const { videoCodec, width, height, framerate } = this.#params;
    if (!videoCodec) return 0.01;
    const pixelsPerSecond = (width ?? 640) * (height ?? 480) * (framerate ?? 30);
    return ((videoCodec === 'h264' ? 0.12 : 0.4) * pixelsPerSecond) / (640 * 480 * 30);
  }

  /** What the file holds of a track in `sourceMime`: the codec re-encoded to, or the source's. */
  #outputMime(sourceMime: string): string {
    const mime = sourceMime.toLowerCase();
    const { videoCodec, audioCodec } = this.#params;
    if (mime.startsWith('video/') && videoCodec) return `video/${videoCodec}`;
    if (mime.startsWith('audio/') && audioCodec) return `audio/${audioCodec}`;
    return mime;
  }

  get info(): RecordingInfo {
    let bytes = 0;
    for (const file of this.#files) {
      const stored = this.#stored.find((b) => b.key === basename(file));
      bytes += stored ? stored.bytes : fileSize(file);
    }
    return {
      container: this.#container,
      files: [...this.#files],
      stored: [...this.#stored],
      bytes,
      durationMs: Math.round(this.#outTimeUs / 1000),
    };
  }

  protected override get closeGraceMs(): number {
    return TRAILER_GRACE_MS;
  }

  protected async prepare(): Promise<void> {
    const { room } = this.#ctx;
    if (this.#kinds) this.#inputIds = this.#inputIds.map((id, i) => trackOfKind(room, id, this.#kinds![i]!));
    const kinds = this.#inputIds.map((id) => {
      const stream = room.streams().find((s) => s.id === id);
      if (!stream) throw new NotFoundError(ErrorCodes.streamNotFound, `no track ${id} in the room`);
      if (stream.kind === 'data')
        throw new ValidationError('a data track cannot be recorded', [{ path: 'inputs', message: id }]);
      return stream.kind;
    });
    if (new Set(kinds).size !== kinds.length)
      throw new ValidationError('a recording takes at most one audio and one video track', [
        { path: 'inputs', message: kinds.join(', ') },
      ]);
    this.#work = mkdtempSync(join(tmpdir(), 'tessera-record-'));
    this.#inputs.push(
      ...(await consumeTracks(room, this.#bridge, this.#inputIds, this.#work, this.#gone, () => this.closed)),
    );
    if (this.closed) return;
    this.#container = this.#chooseContainer();
    mkdirSync(this.#dir, { recursive: true });
    // Until it is stored: if the node dies meanwhile, its next life settles this recording.
    writeSidecar(this.#dir, {
      id: this.id,
      roomId: this.roomId,
      container: this.#container,
      contentType: CONTENT_TYPE[this.#container],
    });
    await this.#bridge.resumeInputs();
  }

  readonly #gone = () => this.close(this.#ctx.room.closed ? 'room closed' : 'input gone');

  #chooseContainer(): Container {
    const codecs = this.#inputs.map((i) => this.#outputMime(i.consumer.rtpParameters.codecs[0]!.mimeType));
    const container = containerFor(this.#params.container, codecs);
    const refused = refusedCodecs(container, codecs);
    if (refused.length > 0)
      throw new ValidationError(`${container} cannot hold ${refused.join(' and ')} without re-encoding`, [
        {
          path: 'container',
          message: `use ${refusedCodecs('mkv', codecs).length === 0 ? 'mkv' : 'another'}`,
        },
      ]);
    return container;
  }

  /**
   * OWT's PATCH of a recording's `from`: the new tracks (one per kind recorded, video first) are
   * consumed first (one that is not there, or a codec the container cannot hold, leaves the
   * recording as it was); then the old ones go and ffmpeg finishes its part and starts the next
   * on the new sources. Each part is a file of its own: one codec per track and file.
   */
  override async switchInputs(streamIds: readonly string[]): Promise<void> {
    const { room } = this.#ctx;
    const kinds =
      this.#kinds ??
      this.#inputIds.map((id) => room.streams().find((s) => s.id === id)?.kind as 'audio' | 'video');
    if (streamIds.length !== kinds.length)
      throw new ValidationError('a recording switches one input per kind it records', [
        { path: 'inputs', message: `one per kind of ${kinds.join('+')}` },
      ]);
    const ids = streamIds.map((id, i) => trackOfKind(room, id, kinds[i]!));
    // Checked before anything is consumed: the running part's SDP files stay as they are.
    const codecs = ids.map((id) => (room.stream(id)?.producer as types.Producer | undefined)?.rtpParameters);
    const mimeTypes = codecs.map((c) => this.#outputMime(c?.codecs[0]?.mimeType ?? 'unknown'));
    const refused = refusedCodecs(this.#container, mimeTypes);
    if (refused.length > 0)
      throw new ValidationError(
        `${this.#container} cannot hold ${refused.join(' and ')} without re-encoding`,
        [{ path: 'from', message: 'another stream, or a recording in mkv' }],
      );
    if (this.closed || !this.#work) return;
    await switchTracks(room, this.#bridge, this.#inputs, ids, this.#work, this.#gone, () => this.closed);
    this.#inputIds = ids;
    if (this.closed) return;
    await this.#bridge.resumeInputs();
    this.logger.info('recording switched its inputs', { inputs: ids });
    await this.respawn();
  }

  protected ffmpegArgs(): string[] {
    // One file per run: a crash, or a switch of sources, starts the next part.
    const part = this.#files.length;
    const file = join(this.#dir, `${this.id}${part > 0 ? `.${part}` : ''}.${EXTENSION[this.#container]}`);
    this.#files.push(file);
    const container =
      this.#container === 'mp4'
        ? [
            ...['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof+delay_moov'],
            ...['-frag_duration', String(FLUSH_SECONDS * 1_000_000)],
          ]
        : [
            ...['-f', this.#container === 'webm' ? 'webm' : 'matroska'],
            ...['-cluster_time_limit', String(FLUSH_SECONDS * 1000)],
          ];
    return [
      ...this.#inputs.flatMap((_, i) => [
        ...['-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '64'],
        // ffmpeg probes each input for 5 s by default before writing anything: the recording would
        // start that late. A key frame (asked for at once) tells it what it needs.
        ...['-analyzeduration', '1000000'],
        ...['-i', join(this.#work!, `${i}.sdp`)],
      ]),
      ...this.#inputs.flatMap((_, i) => ['-map', `${i}:0`]),
      ...this.#videoCodecArgs(),
      ...(this.#params.audioCodec ? AUDIO_ENCODERS[this.#params.audioCodec] : ['-c:a', 'copy']),
      ...[...container, '-flush_packets', '1', '-y', file],
    ];
  }

  /** Copy, or the encoder for the codec and parameters asked for. */
  #videoCodecArgs(): string[] {
    const { videoCodec, width, height, framerate = 30, videoKbps = 2000, keyFrameSeconds = 2 } = this.#params;
    if (!videoCodec) return ['-c:v', 'copy'];
    return [
      ...['-vf', [...exactSizeFilters(width, height), `fps=${framerate}`].join(',')],
      ...videoEncoderArgs(videoCodec, videoKbps),
      ...['-g', String(framerate * keyFrameSeconds)],
    ];
  }

  protected override onSpawn(process: FfmpegProcess): void {
    this.#ffmpeg = process;
    this.#outTimeUs = 0;
    const file = this.#files.at(-1)!;
    // Every part's way into the store is waited for at the end, an earlier one's too (a switch).
    const earlier = this.#storing;
    this.#storing = Promise.all([earlier, process.exited().then(() => this.#store(file))]).then(() => {});
    process.on('progress', ({ fields }) => {
      const us = Number(fields.out_time_us);
      if (Number.isFinite(us) && us > 0) this.#outTimeUs = us;
    });
    // A file starts at a key frame: ask until the first frame is written.
    this.#stopKeyFrames?.();
    this.#stopKeyFrames = this.#bridge.requestKeyFramesUntil(KEY_FRAME_RETRY_MS);
  }

  protected override onFirstFrame(): void {
    this.#stopKeyFrames?.();
  }

  /** A part whose run has ended, into the blob store (on failure it stays on the node, logged). */
  async #store(file: string): Promise<void> {
    if (!this.#blobs || fileSize(file) === 0) return;
    try {
      const stored = await this.#blobs.putFile(basename(file), file, CONTENT_TYPE[this.#container]);
      this.#stored.push(stored);
      if (stored.location !== file) rmSync(file, { force: true });
    } catch (error) {
      this.logger.warn('recording part not stored; it stays on the node', { file, error: String(error) });
    }
  }

  protected release(): void {
    this.#stopKeyFrames?.();
    const done = () => {
      this.#bridge.close();
      if (this.#work) rmSync(this.#work, { recursive: true, force: true });
      void this.#storing.then(() => {
        removeSidecar(this.#dir, this.id);
        this.#finished(this.info);
      });
    };
    // RTP keeps coming until ffmpeg has exited: after SIGINT it joins its input threads before
    // writing the trailer, and a thread blocked on a silent UDP port never returns (ffmpeg only
    // interrupts reads from the second signal on, and then the trailer write fails too).
    const ffmpeg = this.#ffmpeg;
    if (ffmpeg) void ffmpeg.exited().then(done, done);
    else done();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The factory the composition root registers under the kind `record`: parts written into `dir`, kept in `blobs`. */
export const recorderKind = (dir: string, blobs?: BlobStore) => (spec: PipelineSpec, ctx: PipelineContext) =>
  new Recorder(spec, ctx, { dir, ...(blobs ? { blobs } : {}) });
