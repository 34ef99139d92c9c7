import { EventEmitter } from 'node:events';
import {
  ConflictError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  ValidationError,
} from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Room } from '../sfu/Room.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { Pipeline, PipelineContext, PipelineSpec, StreamPublisher } from './Pipeline.ts';

/** Makes a pipeline of one kind; throws a ValidationError for params the kind does not accept. */
export type PipelineFactory = (spec: PipelineSpec, ctx: PipelineContext) => Pipeline;

export interface RestartPolicy {
  /** Restarts in a row before the pipeline fails. */
  max: number;
  /** First delay; doubled per restart up to maxMs, then jittered to 50–100 %. */
  baseMs: number;
  maxMs: number;
  /** A run lasting this long was healthy: the next crash starts the count afresh. */
  stableMs: number;
}

export interface PipelinesOptions {
  rooms: RoomRegistry;
  /** The kinds this node runs, by name (registered by the composition root). */
  kinds: Readonly<Record<string, PipelineFactory>>;
  publisher: StreamPublisher;
  logger: Logger;
  limits?: { perRoom?: number | undefined; perNode?: number | undefined };
  restart?: Partial<RestartPolicy>;
}

/** What capacity reports count: pipelines, their expected cores, and each ffmpeg's CPU so far. */
export interface PipelinesUsage {
  count: number;
  weight: number;
  processes: { pid: number; cpuSeconds: number }[];
}

type Events = { pipelinecreated: [Pipeline]; pipelineclosed: [Pipeline] };

const DEFAULT_RESTART: RestartPolicy = { max: 5, baseMs: 500, maxMs: 15_000, stableMs: 30_000 };

/**
 * The node's pipelines: created, found and closed by id; closed with their room (mediasoup's
 * cascade: the room's close closes what hangs off it); ffmpeg restarted after a crash with capped
 * exponential backoff and jitter, and failed after too many crashes in a row. Bounded per room
 * and per node. Kinds come from a factory table: this file imports none of them.
 *
 * start() only registers and returns: a command handler must never wait for ffmpeg (the node
 * serializes each room's commands; a slow start would stall the room's signaling).
 */
export class Pipelines extends EventEmitter<Events> {
  readonly #o: PipelinesOptions;
  readonly #restart: RestartPolicy;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: PipelinesOptions) {
    super();
    this.#o = options;
    this.#restart = { ...DEFAULT_RESTART, ...options.restart };
  }

  get(id: string): Pipeline | undefined {
    return this.#pipelines.get(id);
  }

  list(roomId?: string): Pipeline[] {
    const all = [...this.#pipelines.values()];
    return roomId === undefined ? all : all.filter((p) => p.roomId === roomId);
  }

  get kinds(): string[] {
    return Object.keys(this.#o.kinds);
  }

  /** Registers a pipeline and starts it in the background; throws only for a request that cannot be run. */
  start(spec: PipelineSpec): Pipeline {
    if (this.#closed) throw new LimitError('the node is closing: no new pipelines');
    const factory = Object.hasOwn(this.#o.kinds, spec.kind) ? this.#o.kinds[spec.kind] : undefined;
    if (!factory)
      throw new ValidationError(`this node runs no ${spec.kind} pipelines`, [
        { path: 'kind', message: `one of ${this.kinds.join(', ') || '(none)'}` },
      ]);
    if (this.#pipelines.has(spec.id)) throw new ConflictError(`pipeline ${spec.id} exists`);
    const room = this.#o.rooms.get(spec.roomId);
    if (!room || room.closed) throw new NotFoundError(ErrorCodes.roomNotFound, `no room ${spec.roomId} here`);
    this.#checkLimits(spec.roomId);
    const pipeline = this.#run(factory(spec, this.context(room)), room);
    // Asked for over the API: it keeps a room nobody has joined open (a mixer or a transcoder,
    // which run() starts for the room's participants, does not).
    pipeline.once('close', room.hold());
    return pipeline;
  }

  /**
   * start(), opening the room first if this node does not host it yet: a streaming-in or a push
   * ingest may come before anyone joins. The pipeline keeps the room open while it runs.
   */
  async startInRoom(spec: PipelineSpec): Promise<Pipeline> {
    await this.#o.rooms.open(spec.roomId);
    return this.start(spec);
  }

  /** What a pipeline of `room` is built with (for callers that build their own, then run()). */
  context(room: Room): PipelineContext {
    return { room, logger: this.#o.logger, publisher: this.#o.publisher };
  }

  /**
   * Registers a pipeline built by the caller (a view's mixer) and starts it in the background,
   * under the same limits, restarts and room cascade as start(). Throws only when it may not run.
   */
  run(pipeline: Pipeline): Pipeline {
    if (this.#closed) throw new LimitError('the node is closing: no new pipelines');
    if (this.#pipelines.has(pipeline.id)) throw new ConflictError(`pipeline ${pipeline.id} exists`);
    const room = this.#o.rooms.get(pipeline.roomId);
    if (!room || room.closed)
      throw new NotFoundError(ErrorCodes.roomNotFound, `no room ${pipeline.roomId} here`);
    this.#checkLimits(pipeline.roomId);
    return this.#run(pipeline, room);
  }

  #checkLimits(roomId: string): void {
    const perNode = this.#o.limits?.perNode ?? 16;
    const perRoom = this.#o.limits?.perRoom ?? 8;
    if (this.#pipelines.size >= perNode)
      throw new LimitError(`at most ${perNode} pipelines per node`, {
        limit: 'pipelinesPerNode',
        max: perNode,
      });
    if (this.list(roomId).length >= perRoom)
      throw new LimitError(`at most ${perRoom} pipelines per room`, {
        limit: 'pipelinesPerRoom',
        max: perRoom,
      });
  }

  #run(pipeline: Pipeline, room: Room): Pipeline {
    this.#pipelines.set(pipeline.id, pipeline);
    const onRoomClose = () => pipeline.close('room closed');
    room.once('close', onRoomClose);
    let crashes = 0;
    pipeline.on('crashed', ({ ranMs }) => {
      if (ranMs >= this.#restart.stableMs) crashes = 0;
      crashes++;
      if (crashes > (pipeline.restartLimit ?? this.#restart.max)) {
        pipeline.fail(`ffmpeg crashed ${crashes} times in a row`);
        return;
      }
      const delay = backoffMs(crashes, {
        ...this.#restart,
        baseMs: pipeline.restartBaseMs ?? this.#restart.baseMs,
      });
      this.#o.logger.warn('pipeline restarting', {
        pipelineId: pipeline.id,
        attempt: crashes,
        delayMs: delay,
      });
      this.#timers.set(
        pipeline.id,
        setTimeout(() => {
          this.#timers.delete(pipeline.id);
          pipeline.restart();
        }, delay),
      );
    });
    pipeline.once('close', () => {
      clearTimeout(this.#timers.get(pipeline.id));
      this.#timers.delete(pipeline.id);
      room.off('close', onRoomClose);
      if (this.#pipelines.get(pipeline.id) === pipeline) this.#pipelines.delete(pipeline.id);
      this.emit('pipelineclosed', pipeline);
    });
    this.emit('pipelinecreated', pipeline);
    void pipeline.start().catch((error: unknown) => {
      pipeline.fail(error instanceof Error ? error.message : String(error));
    });
    return pipeline;
  }

  /** Stops a pipeline; false if there is none by that id (in that room, when given). */
  stop(id: string, roomId?: string): boolean {
    const pipeline = this.#pipelines.get(id);
    if (!pipeline || (roomId !== undefined && pipeline.roomId !== roomId)) return false;
    pipeline.close('stopped');
    return true;
  }

  /** A running pipeline takes other inputs (Pipeline.switchInputs); 404 when there is none by that id in that room. */
  async switchInputs(
    id: string,
    roomId: string,
    streamIds: readonly string[],
    params?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const pipeline = this.#pipelines.get(id);
    if (!pipeline || pipeline.roomId !== roomId)
      throw new NotFoundError(ErrorCodes.notFound, `pipeline ${id} is not running in the room`);
    await pipeline.switchInputs(streamIds, params);
  }

  usage(): PipelinesUsage {
    const processes: PipelinesUsage['processes'] = [];
    let weight = 0;
    for (const p of this.#pipelines.values()) {
      weight += p.weight;
      for (const process of p.processes)
        if (process.pid !== undefined) processes.push({ pid: process.pid, cpuSeconds: process.cpuSeconds() });
    }
    return { count: this.#pipelines.size, weight, processes };
  }

  /** Closes every pipeline (the node is going). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const p of [...this.#pipelines.values()]) p.close('node closed');
  }
}

/** Capped exponential backoff with jitter: attempt 1 → baseMs, doubling up to maxMs, times 0.5–1. */
export function backoffMs(attempt: number, policy: Pick<RestartPolicy, 'baseMs' | 'maxMs'>): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}
