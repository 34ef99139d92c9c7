import { z } from 'zod';
import { RecordingFileSchema } from './http/recording.ts';

/**
 * The one event stream (seam 5): what happened to rooms, participants, streams, pipelines and
 * nodes, as the media node saw it. Webhooks, metrics and the live-state projection consume it.
 * Versioned: consumers accept `v: 1` only; a breaking change adds `v: 2` beside it.
 */
const PublicParticipantSchema = z.object({ id: z.string(), user: z.string(), role: z.string() });
const StreamSchema = z.object({
  id: z.string(),
  owner: z.string(),
  kind: z.enum(['audio', 'video', 'data']),
  source: z.string(),
  paused: z.boolean().optional(),
});
const PipelineSchema = z.object({
  id: z.string(),
  kind: z.string().max(64),
  reason: z.string().max(1000).optional(),
});
/** A recording (a `record` pipeline) as its node reports it: what it has written so far. */
const RecordingReportSchema = z.object({
  id: z.string(),
  container: z.string().max(8),
  bytes: z.number().int().min(0),
  durationMs: z.number().int().min(0),
  files: z.array(RecordingFileSchema).max(100),
  reason: z.string().max(1000).optional(),
});
export type RecordingReport = z.infer<typeof RecordingReportSchema>;

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    v: z.literal(1),
    /** Unique per event and kept across every delivery: receivers deduplicate on it. */
    id: z.uuid(),
    type: z.literal(type),
    /** When it happened (ISO 8601). */
    at: z.iso.datetime(),
    /** The room's service (rooms only; absent for node events). */
    serviceId: z.string().optional(),
    /** The service's own room id (not the `<service>/<room>` key). */
    roomId: z.string().optional(),
    nodeId: z.string(),
    data,
  });

export const EventSchema = z.discriminatedUnion('type', [
  envelope('room.started', z.object({})),
  envelope('room.finished', z.object({ reason: z.string().max(200).optional() })),
  envelope('participant.joined', z.object({ participant: PublicParticipantSchema })),
  envelope('participant.left', z.object({ participant: PublicParticipantSchema })),
  envelope('stream.added', z.object({ stream: StreamSchema })),
  envelope('stream.updated', z.object({ stream: StreamSchema })),
  envelope('stream.removed', z.object({ stream: StreamSchema })),
  envelope('pipeline.started', z.object({ pipeline: PipelineSchema })),
  envelope('pipeline.failed', z.object({ pipeline: PipelineSchema })),
  envelope('pipeline.ended', z.object({ pipeline: PipelineSchema })),
  envelope('recording.started', z.object({ recording: RecordingReportSchema })),
  envelope('recording.ended', z.object({ recording: RecordingReportSchema })),
  envelope('recording.failed', z.object({ recording: RecordingReportSchema })),
  envelope('node.started', z.object({})),
  envelope('node.stopped', z.object({})),
]);

export type TesseraEvent = z.infer<typeof EventSchema>;
export type EventType = TesseraEvent['type'];
export type EventOf<T extends EventType> = Extract<TesseraEvent, { type: T }>;
export const EventTypes = EventSchema.options.map((o) => o.shape.type.value) as EventType[];

/** A new event: id and time filled in. */
export function newEvent<T extends EventType>(
  type: T,
  fields: Omit<EventOf<T>, 'v' | 'id' | 'type' | 'at'>,
): EventOf<T> {
  return { v: 1, id: crypto.randomUUID(), type, at: new Date().toISOString(), ...fields } as EventOf<T>;
}
