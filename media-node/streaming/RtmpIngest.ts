import { ValidationError } from '../../shared/errors.ts';
import { type RtmpInParams, RtmpInParamsSchema } from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpOutput } from '../pipelines/RtpBridge.ts';
import type { RtmpIngestServer, RtmpIngestSession } from './RtmpIngestServer.ts';
import { encodeForRoom, publishAsPublication } from './roomPublication.ts';

/** ffmpeg's stdin may hold this much unread before a slow run drops the publisher's data. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/**
 * RTMP push ingest: an encoder (OBS, ffmpeg, a camera) publishes to the node's RTMP listener with
 * this ingest's stream key and becomes one publication of the room (video as H.264 constrained
 * baseline, audio as opus), as a streaming-in does for a pulled source. ffmpeg runs only while a
 * publisher is connected, reading its FLV from stdin; the producers stay between publishers, so
 * an encoder that reconnects (OBS does) comes back as the same stream. One publisher at a time.
 */
export class RtmpIngest extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #params: RtmpInParams;
  readonly #server: RtmpIngestServer;
  readonly #bridge: RtpBridge;
  #video: RtpOutput | undefined;
  #audio: RtpOutput | undefined;
  #session: RtmpIngestSession | undefined;
  #unregister: (() => void) | undefined;
  #published = false;

  constructor(spec: PipelineSpec, ctx: PipelineContext, server: RtmpIngestServer) {
    super(spec, ctx.logger);
    const parsed = RtmpInParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid rtmp-in params',
        // The key's value stays out of the message: only which field failed.
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    if (!parsed.data.audio && !parsed.data.video)
      throw new ValidationError('an ingest brings audio, video or both', [
        { path: 'params', message: 'none' },
      ]);
    if (spec.inputs.length > 0)
      throw new ValidationError('an ingest consumes no room stream', [{ path: 'input', message: 'none' }]);
    this.#ctx = ctx;
    this.#params = parsed.data;
    this.#server = server;
    this.#bridge = new RtpBridge(ctx.room.router);
  }

  get inputs(): readonly string[] {
    return [];
  }

  /** A decode and an H.264 encode (x264 ultrafast) at up to 30 fps while publishing, plus opus. */
  get weight(): number {
    return this.#params.video ? 0.1 : 0.01;
  }

  /** Whether an encoder is publishing now. */
  get publishing(): boolean {
    return !!this.#session && !this.#session.ended;
  }

  protected override get startsIdle(): boolean {
    return true;
  }

  protected override get stdin(): 'pipe' {
    return 'pipe';
  }

  protected async prepare(): Promise<void> {
    const appData = { pipelineId: this.id, pipelineKind: this.kind };
    if (this.#params.video) this.#video = await this.#bridge.output('video', 'h264', appData);
    if (this.closed) return;
    if (this.#params.audio) this.#audio = await this.#bridge.output('audio', 'opus', appData);
    if (this.closed) return;
    this.#unregister = this.#server.register(this.#params.streamKey, (session) => this.#publisher(session));
  }

  #publisher(session: RtmpIngestSession): boolean {
    if (this.closed || this.publishing) return false;
    this.#session = session;
    session.once('end', () => {
      if (this.#session !== session) return;
      this.#session = undefined;
      void this.halt();
    });
    void this.respawn();
    return true;
  }

  protected ffmpegArgs(): string[] {
    return [
      ...['-fflags', 'nobuffer', '-analyzeduration', '1000000', '-f', 'flv', '-i', 'pipe:0'],
      ...encodeForRoom(this.#video, this.#audio),
    ];
  }

  /** The publisher's FLV into this run: the codecs' configuration first (a run after a crash starts mid-stream). */
  protected override onSpawn(process: FfmpegProcess): void {
    const session = this.#session;
    const stdin = process.stdin;
    if (!session || session.ended || !stdin) {
      void this.halt();
      return;
    }
    stdin.write(session.preamble());
    const forward = (tag: Buffer) => {
      if (stdin.writableLength > MAX_BUFFERED) return; // a stalled run: it is ended and retried
      stdin.write(tag);
    };
    session.on('data', forward);
    const stop = () => {
      session.off('data', forward);
      stdin.end();
    };
    session.once('end', stop);
    void process.exited().then(() => {
      session.off('data', forward);
      session.off('end', stop);
    });
  }

  /** Its tracks become the room's publication at the first frame of the first publisher. */
  protected override onFirstFrame(): void {
    if (this.#published) return;
    this.#published = true;
    const tracks = { video: this.#video, audio: this.#audio };
    for (const output of publishAsPublication(this.#ctx, this, tracks, this.#params.publication, (r) =>
      this.fail(r),
    ))
      this.addOutput(output);
  }

  protected release(): void {
    this.#unregister?.();
    this.#session?.close();
    const { room, publisher } = this.#ctx;
    if (this.#published && !room.closed)
      for (const out of [this.#video, this.#audio]) if (out) publisher.unpublish(room, out.producer.id);
    this.#bridge.close();
  }
}

/** The factory the composition root registers under the kind `rtmp-in`, with the node's listener. */
export const rtmpIngestKind = (server: RtmpIngestServer) => (spec: PipelineSpec, ctx: PipelineContext) =>
  new RtmpIngest(spec, ctx, server);
