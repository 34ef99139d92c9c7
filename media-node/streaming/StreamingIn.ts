import { ValidationError } from '../../shared/errors.ts';
import { type StreamInParams, StreamInParamsSchema } from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpOutput } from '../pipelines/RtpBridge.ts';
import { HlsFeed } from './HlsFeed.ts';
import { passThroughCodec, probeH264 } from './h264PassThrough.ts';
import { encodeForRoom, publishAsPublication } from './roomPublication.ts';

/** Reconnects in a row before the streaming-in fails: about 7 minutes at a 15 s backoff cap. */
const RECONNECTS = 30;
/** How long a source may take to answer before a run gives up (and is retried). */
const SOURCE_TIMEOUT_US = 5_000_000;
/**
 * A run whose output has not advanced for this long is ended (and retried): a source that stops
 * sending often keeps its connection open (an RTMP server waiting for its publisher), and
 * ffmpeg's own timeouts only noticed after ~20 s.
 */
const STALL_MS = 4000;
/** A run's first output may take longer: connecting, then reading the stream's start. */
const FIRST_OUTPUT_MS = 10_000;
/**
 * How long ffmpeg reads before it starts: an FLV header may announce audio that never comes (a
 * video-only encoder), and ffmpeg then waits its whole default 5 s for it, every run.
 */
const ANALYZE_US = 1_000_000;

export interface StreamingInOptions {
  /** HLS sources (fetched by the node itself) may be on loopback or private addresses. */
  allowPrivateUrls?: boolean;
}

/**
 * OWT's streaming-in: an RTSP (TCP or UDP), RTMP or HLS source pulled into the room as one
 * publication of a `streaming` origin, video as H.264 (the source's own when subscribers can take
 * it, h264PassThrough; else constrained baseline, what every browser decodes) and audio as opus,
 * produced into the router like a participant's tracks. A source that
 * stops or goes away ends the ffmpeg run; the registry starts it again with capped, jittered
 * backoff (the producers stay, paused meanwhile: the stream is `inactive` until frames come
 * back), and it fails after too many in a row. The URL (and any credentials in it) never reaches a log.
 * HLS is fetched by the node (HlsFeed: every playlist and segment URL checked where it connects)
 * and piped to ffmpeg, paced at the source's own rate.
 */
export class StreamingIn extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #params: StreamInParams;
  readonly #bridge: RtpBridge;
  readonly #allowPrivate: boolean;
  #feed: HlsFeed | undefined;
  /** The source's H.264 is forwarded unchanged (decided once, from its first SPS). */
  #copyVideo = false;
  #video: RtpOutput | undefined;
  #audio: RtpOutput | undefined;
  #published = false;
  /** The source went away and has not sent a frame since: the publication shows `inactive`. */
  #away = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(spec: PipelineSpec, ctx: PipelineContext, options: StreamingInOptions = {}) {
    super(spec, ctx.logger);
    this.#allowPrivate = options.allowPrivateUrls ?? false;
    const parsed = StreamInParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid stream-in params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    if (!parsed.data.audio && !parsed.data.video)
      throw new ValidationError('a streaming-in brings audio, video or both', [
        { path: 'params', message: 'none' },
      ]);
    if (spec.inputs.length > 0)
      throw new ValidationError('a streaming-in consumes no room stream', [
        { path: 'input', message: 'none' },
      ]);
    this.#ctx = ctx;
    this.#params = parsed.data;
    this.#bridge = new RtpBridge(ctx.room.router);
    // A run ended while meant to run: the source is away until a run has a frame again.
    this.on('crashed', () => this.#setAway(true));
  }

  /**
   * OWT's stream status: a reconnecting streaming-in is `inactive` (its tracks paused: the
   * stream record, subscribers' `stream` update events and webhooks say so), `active` again with
   * the next run's first frame.
   */
  #setAway(away: boolean): void {
    if (!this.#published || this.#away === away || this.closed) return;
    this.#away = away;
    void this.#ctx.room.pauseStream(this.#params.publication, undefined, away).catch((error) => {
      this.logger.warn('streaming-in status not updated', { error });
    });
  }

  get inputs(): readonly string[] {
    return [];
  }

  /** A decode and an H.264 encode (x264 ultrafast) at up to 30 fps, plus opus; a copy costs little. */
  get weight(): number {
    return this.#params.video && !this.#copyVideo ? 0.1 : 0.01;
  }

  override get restartLimit(): number {
    return RECONNECTS;
  }

  /** ffmpeg names its input (the URL, credentials and all) in its stderr. */
  protected override redact(stderr: string): string {
    return stderr.split(this.#params.url).join('<url>');
  }

  protected async prepare(): Promise<void> {
    const appData = { pipelineId: this.id, pipelineKind: this.kind };
    if (this.#params.video) {
      const copy = passThroughCodec(await this.#probe());
      if (this.closed) return;
      this.#copyVideo = copy !== undefined;
      this.logger.info('streaming-in video', {
        video: copy ? `H.264 passed through (${copy})` : 're-encoded to H.264',
      });
      this.#video = await this.#bridge.output('video', copy ?? 'h264', appData);
    }
    if (this.closed) return;
    if (this.#params.audio) this.#audio = await this.#bridge.output('audio', 'opus', appData);
  }

  /** An HLS source's segments come through stdin (HlsFeed). */
  protected override get stdin(): 'pipe' | 'ignore' {
    return this.#params.protocol === 'hls' ? 'pipe' : 'ignore';
  }

  protected ffmpegArgs(): string[] {
    const copyVideo = this.#copyVideo;
    // Segments arrive in bursts: read at the source's own rate (-re), not as fast as they come.
    if (this.#params.protocol === 'hls')
      return ['-re', '-i', 'pipe:0', ...encodeForRoom(this.#video, this.#audio, { copyVideo })];
    return [
      '-fflags',
      'nobuffer',
      ...this.#input(),
      ...encodeForRoom(this.#video, this.#audio, { copyVideo }),
    ];
  }

  /** The source's first SPS: read from the source itself, an HLS one through the guarded feed. */
  #probe() {
    if (this.#params.protocol !== 'hls') return probeH264(this.#input());
    return probeH264(['-i', 'pipe:0'], 8000, (stdin) => {
      const feed = new HlsFeed({ url: this.#params.url, out: stdin, allowPrivate: this.#allowPrivate });
      // A refused or failing source shows in the first run, which fails or retries it.
      feed.on('error', () => stdin.destroy());
      return () => feed.close();
    });
  }

  /** An RTSP or RTMP source's input options and `-i`. */
  #input(): string[] {
    const { protocol, transport, url } = this.#params;
    const options =
      protocol === 'rtsp'
        ? ['-rtsp_transport', transport, '-timeout', String(SOURCE_TIMEOUT_US)]
        : ['-rw_timeout', String(SOURCE_TIMEOUT_US), '-analyzeduration', String(ANALYZE_US)];
    return [...options, '-i', url];
  }

  /** Ends a run whose output stopped advancing (a silent source), so that it is retried. */
  protected override onSpawn(process: FfmpegProcess): void {
    clearInterval(this.#watchdog);
    if (this.#params.protocol === 'hls') this.#pullHls(process);
    let frames = -1;
    let advancedAt = Date.now();
    process.on('progress', ({ frame, fields }) => {
      const now = frame + Number(fields.out_time_us ?? 0);
      if (now !== frames) {
        frames = now;
        advancedAt = Date.now();
      }
    });
    this.#watchdog = setInterval(() => {
      const silentMs = Date.now() - advancedAt;
      if (process.closed) clearInterval(this.#watchdog);
      else if (silentMs > (frames > 0 ? STALL_MS : FIRST_OUTPUT_MS)) {
        this.logger.warn('streaming-in source silent: reconnecting', { silentMs });
        clearInterval(this.#watchdog);
        void process.close(500);
      }
    }, 1000);
    this.#watchdog.unref();
  }

  /** A feed per run: a feed that stops ends the run (retried), one that cannot work fails the pipeline. */
  #pullHls(process: FfmpegProcess): void {
    this.#feed?.close();
    const stdin = process.stdin;
    if (!stdin) return;
    const feed = new HlsFeed({ url: this.#params.url, out: stdin, allowPrivate: this.#allowPrivate });
    this.#feed = feed;
    feed.on('error', (error) => {
      if (error.permanent) this.fail(`HLS source refused: ${error.message}`);
      else {
        this.logger.warn('HLS source unreachable: reconnecting', { error: error.message });
        void process.close(500);
      }
    });
    process.on('exit', () => feed.close());
  }

  /** Its tracks become the room's publication at the first run's first frame. */
  protected override onFirstFrame(): void {
    this.#setAway(false);
    if (this.#published) return;
    this.#published = true;
    const tracks = { video: this.#video, audio: this.#audio };
    for (const output of publishAsPublication(this.#ctx, this, tracks, this.#params.publication, (r) =>
      this.fail(r),
    ))
      this.addOutput(output);
  }

  protected release(): void {
    clearInterval(this.#watchdog);
    this.#feed?.close();
    const { room, publisher } = this.#ctx;
    if (this.#published && !room.closed)
      for (const out of [this.#video, this.#audio]) if (out) publisher.unpublish(room, out.producer.id);
    this.#bridge.close();
  }
}

/** The factory the composition root registers under the kind `stream-in`. */
export const streamingInKind =
  (options: StreamingInOptions = {}) =>
  (spec: PipelineSpec, ctx: PipelineContext) =>
    new StreamingIn(spec, ctx, options);
