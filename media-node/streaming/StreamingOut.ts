import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../shared/errors.ts';
import {
  StreamOutEncodingSchema,
  type StreamOutParams,
  StreamOutParamsSchema,
} from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { exactSizeFilters, videoEncoderArgs } from '../ffmpeg/videoEncoders.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpInput } from '../pipelines/RtpBridge.ts';
import { consumeTracks, switchTracks, trackOfKind } from '../pipelines/tracks.ts';

/** Until the first frame is out, key frames are asked for this often (the encoder starts at one). */
const KEY_FRAME_RETRY_MS = 1000;
/** Reconnects in a row before the streaming-out fails: about 7 minutes at a 15 s backoff cap. */
const RECONNECTS = 30;

/**
 * OWT's streaming-out: a room's audio and/or video track (from one stream or two) encoded to
 * H.264 + AAC (what RTMP and RTSP servers and HLS/DASH players take) and pushed to an RTMP server
 * (flv), an RTSP server (ANNOUNCE/RECORD over TCP), or an HTTP origin as HLS or DASH (playlist
 * or manifest and segments, uploaded with PUT or POST). A server that goes away ends the ffmpeg run; the
 * registry restarts it with capped, jittered backoff (a reconnect), and the pipeline fails after
 * too many. The URL (and its stream key) never reaches a log.
 */
export class StreamingOut extends Pipeline {
  readonly #ctx: PipelineContext;
  #params: StreamOutParams;
  #inputIds: string[];
  readonly #kinds: ('audio' | 'video')[];
  readonly #bridge: RtpBridge;
  #work: string | undefined;
  readonly #inputs: RtpInput[] = [];
  #stopKeyFrames: (() => void) | undefined;

  constructor(spec: PipelineSpec, ctx: PipelineContext) {
    super(spec, ctx.logger);
    const parsed = StreamOutParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid stream-out params',
        // The URL's value stays out of the message: only which field failed.
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    const kinds = parsed.data.kinds.split('+') as ('audio' | 'video')[];
    if (spec.inputs.length !== kinds.length)
      throw new ValidationError('a streaming-out takes one input per kind', [
        { path: 'inputs', message: `one per kind of ${parsed.data.kinds}` },
      ]);
    this.#ctx = ctx;
    this.#params = parsed.data;
    this.#kinds = kinds;
    this.#inputIds = [...spec.inputs];
    this.#bridge = new RtpBridge(ctx.room.router);
  }

  get inputs(): readonly string[] {
    return this.#inputIds;
  }

  /** An H.264 encode at up to 30 fps plus AAC: about a tenth of a core at 720p (x264 ultrafast). */
  get weight(): number {
    return this.#kinds.includes('video') ? 0.1 : 0.01;
  }

  /** A server that is down is tried again for minutes (backoff capped at the registry's maximum). */
  override get restartLimit(): number {
    return RECONNECTS;
  }

  /** ffmpeg names its output (the URL, stream key and all) in its stderr. */
  protected override redact(stderr: string): string {
    return stderr.split(this.#params.url).join('<url>');
  }

  protected async prepare(): Promise<void> {
    const { room } = this.#ctx;
    this.#inputIds = this.#inputIds.map((id, i) => trackOfKind(room, id, this.#kinds[i]!));
    this.#work = mkdtempSync(join(tmpdir(), 'tessera-stream-out-'));
    this.#inputs.push(
      ...(await consumeTracks(room, this.#bridge, this.#inputIds, this.#work, this.#gone, () => this.closed)),
    );
    if (this.closed) return;
    await this.#bridge.resumeInputs();
  }

  readonly #gone = () => this.close(this.#ctx.room.closed ? 'room closed' : 'input gone');

  /**
   * OWT's PATCH of a streaming-out's `from` and video parameters: new tracks are consumed first
   * (a stream that is not there leaves the running output as it was), then the old ones go, and
   * ffmpeg starts again with the new inputs and encoding, pushing to the same URL. Players see a
   * new publish: about one GOP to the next key frame.
   */
  override async switchInputs(
    streamIds: readonly string[],
    params: Readonly<Record<string, unknown>> = {},
  ): Promise<void> {
    const { room } = this.#ctx;
    if (streamIds.length !== this.#kinds.length)
      throw new ValidationError('a streaming-out takes one input per kind', [
        { path: 'inputs', message: `one per kind of ${this.#kinds.join('+')}` },
      ]);
    // No params: the encoding stays; params: the whole new encoding (no size: the source's own).
    const encoding = Object.keys(params).length ? StreamOutEncodingSchema.safeParse(params) : undefined;
    if (encoding && !encoding.success)
      throw new ValidationError(
        'invalid stream-out encoding',
        encoding.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    const ids = streamIds.map((id, i) => trackOfKind(room, id, this.#kinds[i]!));
    if (this.closed || !this.#work) return;
    if (ids.some((id, i) => id !== this.#inputIds[i])) {
      await switchTracks(room, this.#bridge, this.#inputs, ids, this.#work, this.#gone, () => this.closed);
      this.#inputIds = ids;
      if (this.closed) return;
      await this.#bridge.resumeInputs();
    }
    if (encoding) {
      const { width: _width, height: _height, ...kept } = this.#params;
      this.#params = { ...kept, ...encoding.data };
    }
    this.logger.info('streaming-out switched', { inputs: ids, ...encoding?.data });
    await this.respawn();
  }

  protected ffmpegArgs(): string[] {
    const video = this.#kinds.indexOf('video');
    const audio = this.#kinds.indexOf('audio');
    const { width, height, framerate, videoKbps, keyFrameSeconds } = this.#params;
    const gop = String(framerate * keyFrameSeconds);
    return [
      ...this.#inputs.flatMap((_, i) => [
        ...['-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '64'],
        ...['-analyzeduration', '1000000', '-i', join(this.#work!, `${i}.sdp`)],
      ]),
      ...(video >= 0
        ? [
            ...[
              '-map',
              `${video}:0`,
              '-vf',
              exactSizeFilters(width, height).join(','),
              '-r',
              String(framerate),
            ],
            ...videoEncoderArgs('h264', videoKbps),
            // A key frame every keyFrameSeconds: RTMP/RTSP players that join late wait at most that.
            ...['-g', gop, '-keyint_min', gop],
          ]
        : []),
      ...(audio >= 0
        ? ['-map', `${audio}:0`, '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2']
        : []),
      ...this.#muxer(),
      this.#params.url,
    ];
  }

  /** The output format: flv, RTSP over TCP, or HLS/DASH segments uploaded to an HTTP origin. */
  #muxer(): string[] {
    const { protocol, segmentSeconds, windowSize, method } = this.#params;
    // Segments start on key frames: one at every segment boundary.
    const cut = ['-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`, '-sc_threshold', '0'];
    switch (protocol) {
      case 'rtmp':
        return ['-f', 'flv', '-flvflags', 'no_duration_filesize'];
      case 'rtsp':
        return ['-f', 'rtsp', '-rtsp_transport', 'tcp'];
      case 'hls':
        return [
          ...cut,
          ...['-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_list_size', String(windowSize)],
          ...['-hls_flags', 'delete_segments+independent_segments+program_date_time', '-method', method],
        ];
      case 'dash':
        return [
          ...cut,
          ...['-f', 'dash', '-seg_duration', String(segmentSeconds), '-window_size', String(windowSize)],
          ...['-extra_window_size', '2', '-use_template', '1', '-use_timeline', '1', '-method', method],
        ];
    }
  }

  protected override onSpawn(_process: FfmpegProcess): void {
    this.#stopKeyFrames?.();
    this.#stopKeyFrames = this.#bridge.requestKeyFramesUntil(KEY_FRAME_RETRY_MS);
  }

  protected override onFirstFrame(): void {
    this.#stopKeyFrames?.();
  }

  protected release(): void {
    this.#stopKeyFrames?.();
    this.#bridge.close();
    if (this.#work) rmSync(this.#work, { recursive: true, force: true });
  }
}

/** The factory the composition root registers under the kind `stream-out`. */
export const streamingOutKind = () => (spec: PipelineSpec, ctx: PipelineContext) =>
  new StreamingOut(spec, ctx);
