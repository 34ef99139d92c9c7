import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import { type FfmpegExit, FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import type { Room } from '../sfu/Room.ts';

/** Where a pipeline's output stream comes from, for the room's stream registry (seam 3). */
export interface PipelineOrigin {
  kind: 'pipeline';
  pipelineId: string;
  pipelineKind: string;
}

/**
 * Makes a pipeline's producer a stream of its room, and takes it out again. Injected, so that
 * pipelines do not depend on how the room registers streams (today `addRemoteStream`, later
 * `addStream(producer, announcement, origin)`).
 */
export interface StreamPublisher {
  publish(
    room: Room,
    producer: types.Producer,
    announcement: StreamAnnouncement,
    origin: PipelineOrigin,
  ): Promise<void>;
  unpublish(room: Room, streamId: string): void;
}

/** What the registry hands a kind's factory. */
export interface PipelineContext {
  room: Room;
  logger: Logger;
  publisher: StreamPublisher;
}

/** A request to run a pipeline, as the `pipeline.start` command carries it. */
export interface PipelineSpec {
  id: string;
  kind: string;
  roomId: string;
  /** Stream ids of the room the pipeline consumes. */
  inputs: string[];
  /** Kind-specific; each kind validates its own with zod. */
  params: unknown;
}

export interface PipelineOutput {
  streamId: string;
  kind: 'audio' | 'video';
}

export type PipelineState = 'new' | 'starting' | 'running' | 'restarting' | 'closed';

/** Why a pipeline ended: closed on request, with its room or node, or because an input went away. */
export type PipelineEndReason = 'stopped' | 'room closed' | 'input gone' | 'node closed';

type Events = {
  /** ffmpeg wrote its first output frame (again after each restart; `restarts` says which run). */
  started: [{ restarts: number }];
  /** The pipeline could not start, or crashed more often than allowed; it is closed. */
  failed: [{ reason: string }];
  /** The pipeline ended without failing; it is closed. */
  ended: [{ reason: PipelineEndReason }];
  /** ffmpeg exited while the pipeline was meant to run (the registry decides whether to restart). */
  crashed: [FfmpegExit & { ranMs: number }];
  close: [];
};

/**
 * One media job: inputs consumed from the room's router, one ffmpeg child process at a time,
 * outputs produced back into the router (or written out). Subclasses say what to allocate
 * (prepare), how to run ffmpeg (ffmpegArgs) and what to release; this class owns the process,
 * its lifecycle events and an idempotent close(). The registry (Pipelines) drives start and
 * restarts. Events are emitted on the pipeline and on its `observer` (for event funnels).
 */
export abstract class Pipeline extends EventEmitter<Events> {
  readonly id: string;
  readonly kind: string;
  readonly roomId: string;
  readonly observer = new EventEmitter<Events>();
  protected readonly logger: Logger;
  #state: PipelineState = 'new';
  #process: FfmpegProcess | undefined;
  #restarts = 0;
  #outputs: PipelineOutput[] = [];

  constructor(spec: Pick<PipelineSpec, 'id' | 'kind' | 'roomId'>, logger: Logger) {
    super();
    this.id = spec.id;
    this.kind = spec.kind;
    this.roomId = spec.roomId;
    this.logger = logger.child({ pipelineId: spec.id, pipelineKind: spec.kind });
  }

  /** Stream ids of the room this pipeline consumes. */
  abstract get inputs(): readonly string[];

  /** Expected CPU in cores (a share of one core), for placement before it runs. */
  abstract get weight(): number;

  get outputs(): readonly PipelineOutput[] {
    return this.#outputs;
  }

  get state(): PipelineState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The current ffmpeg process, if one runs. */
  get process(): FfmpegProcess | undefined {
    return this.#process;
  }

  /** Every ffmpeg process the pipeline runs now (its own and any helpers'), for CPU accounting. */
  get processes(): FfmpegProcess[] {
    return [...(this.#process ? [this.#process] : []), ...this.helperProcesses()];
  }

  /** ffmpeg processes a kind runs besides the main one (a mixer's decoders), for CPU accounting. */
  protected helperProcesses(): FfmpegProcess[] {
    return [];
  }

  /** How long ffmpeg may take to exit after SIGINT on close: no trailer to write to an RTP output. */
  protected get closeGraceMs(): number {
    return 1000;
  }

  /** How the main ffmpeg's stdin is wired: `pipe` for a kind that feeds it raw media. */
  protected get stdin(): 'pipe' | 'ignore' {
    return 'ignore';
  }

  get restarts(): number {
    return this.#restarts;
  }

  /**
   * The first restart's delay after a crash (then doubling, jittered: Pipelines), when this kind
   * needs a shorter one than the registry's: a live mix is an outage for every viewer.
   */
  get restartBaseMs(): number | undefined {
    return undefined;
  }

  /** Crashes in a row before it fails, when this kind keeps trying longer than the registry's limit. */
  get restartLimit(): number | undefined {
    return undefined;
  }

  /** Allocates what lives across ffmpeg restarts (transports, output streams). May throw. */
  protected abstract prepare(): Promise<void>;
  /** The arguments of one ffmpeg run. */
  protected abstract ffmpegArgs(): string[];
  /** Releases what prepare() allocated (called once, on close). */
  protected abstract release(): void;
  /** A new ffmpeg process is running (e.g. ask the inputs for key frames). */
  protected onSpawn(_process: FfmpegProcess): void {}
  /** The current run wrote its first frame. */
  protected onFirstFrame(): void {}

  /** ffmpeg's stderr as it may be logged: a kind whose arguments hold secrets (stream keys) removes them. */
  protected redact(stderr: string): string {
    return stderr;
  }

  protected addOutput(output: PipelineOutput): void {
    this.#outputs.push(output);
  }

  /**
   * A kind whose runs wait for something from outside (an encoder pushing to it) starts without
   * one, and calls respawn() when there is work and halt() when it is gone.
   */
  protected get startsIdle(): boolean {
    return false;
  }

  /** For the registry: prepare, then the first run. Throws (and leaves closing to the caller) on failure. */
  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'starting';
    await this.prepare();
    if (this.closed || this.startsIdle) return;
    this.#spawn();
  }

  /** For the registry: another run after a crash. */
  restart(): void {
    if (this.closed) return;
    this.#restarts++;
    this.#state = 'restarting';
    // Runs from a timer: a throw here (ffmpeg gone from the machine) must fail the pipeline, not the node.
    try {
      this.#spawn();
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Takes other room streams as inputs, live (a streaming-out's PATCH of `from`), with `params`
   * that change along (its video encoding). A kind that can says how; the others refuse.
   */
  async switchInputs(
    _streamIds: readonly string[],
    _params?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    throw new ValidationError(`a ${this.kind} pipeline cannot switch its inputs`, [
      { path: 'inputs', message: 'not switchable' },
    ]);
  }

  /** Ends the current ffmpeg run on purpose (not a crash: nothing restarts it) and waits for it to go. */
  protected async halt(): Promise<void> {
    const current = this.#process;
    // Its exit is expected: the exit handler ignores a process that is no longer the current one.
    this.#process = undefined;
    await current?.close(this.closeGraceMs);
  }

  /**
   * Ends the current ffmpeg run (waiting for it to go, so a server sees one publisher at a time)
   * and starts the next one with the arguments as they are now; not a crash, not a restart.
   */
  protected async respawn(): Promise<void> {
    if (this.closed) return;
    await this.halt();
    if (this.closed) return;
    this.#state = 'restarting';
    try {
      this.#spawn();
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  #spawn(): void {
    const spawnedAt = Date.now();
    const process = new FfmpegProcess({
      args: ['-nostats', '-progress', 'pipe:1', ...this.ffmpegArgs()],
      stdin: this.stdin,
    });
    this.#process = process;
    let started = false;
    process.on('progress', ({ frame, fields }) => {
      // Audio-only outputs count no frames: their output time tells that they started.
      const wrote = frame > 0 || Number(fields.out_time_us) > 0;
      if (started || !wrote || this.closed) return;
      started = true;
      this.#state = 'running';
      this.onFirstFrame();
      this.#emit('started', { restarts: this.#restarts });
    });
    void process.exited().then((exit) => {
      if (this.closed || this.#process !== process) return;
      this.#process = undefined;
      this.logger.warn('pipeline ffmpeg exited', {
        ...exit,
        stderr: this.redact(process.stderrTail.slice(-600)),
      });
      this.#emit('crashed', { ...exit, ranMs: Date.now() - spawnedAt });
    });
    this.onSpawn(process);
  }

  /** Closes with a failure: `failed`, then `close`. Idempotent. */
  fail(reason: string): void {
    if (this.closed) return;
    this.logger.warn('pipeline failed', { reason });
    this.#close();
    this.#emit('failed', { reason });
    this.#emit('close');
  }

  /** Stops ffmpeg and releases everything: `ended`, then `close`. Idempotent. */
  close(reason: PipelineEndReason = 'stopped'): void {
    if (this.closed) return;
    this.#close();
    this.#emit('ended', { reason });
    this.#emit('close');
  }

  #close(): void {
    this.#state = 'closed';
    // SIGINT, then SIGKILL after the kind's grace (a file's trailer takes longer than RTP's nothing).
    void this.#process?.close(this.closeGraceMs);
    this.#process = undefined;
    try {
      this.release();
    } catch (error) {
      this.logger.warn('pipeline release failed', { error });
    }
  }

  #emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const target of [this, this.observer] as EventEmitter<Events>[]) {
      try {
        (target.emit as (e: K, ...a: Events[K]) => boolean)(event, ...args);
      } catch (error) {
        this.logger.error('pipeline listener failed', { event, error });
      }
    }
  }
}
