import { z } from 'zod';
import { PermissionSchema } from './http/liveState.ts';
import { RequestSchema } from './signaling.ts';

/**
 * Commands from the control plane to a media node, carried by the command bus (an SQS queue
 * per node). SQS delivers at least once, so every command has an id and nodes process each id
 * at most once. Nodes validate every message with this schema before acting on it.
 */
const base = {
  id: z.uuid(),
  roomId: z.string().min(1).max(64),
  issuedAt: z.iso.datetime(),
};

export const StreamPatchOpSchema = z.discriminatedUnion('path', [
  z.strictObject({
    op: z.enum(['add', 'remove']),
    path: z.literal('/info/inViews'),
    value: z.string().min(1).max(64),
  }),
  z.strictObject({
    op: z.literal('replace'),
    path: z.literal('/media/audio/status'),
    value: z.enum(['active', 'inactive']),
  }),
  z.strictObject({
    op: z.literal('replace'),
    path: z.literal('/media/video/status'),
    value: z.enum(['active', 'inactive']),
  }),
  z.strictObject({
    op: z.literal('replace'),
    path: z.literal('/info/layout'),
    value: z
      .array(
        z.strictObject({
          stream: z.string().min(1).max(64),
          region: z.strictObject({ id: z.string().min(1).max(64) }),
        }),
      )
      .max(256),
  }),
]);
export type StreamPatchOp = z.infer<typeof StreamPatchOpSchema>;

export const NodeCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('participant.drop'), participantId: z.string().min(1).max(64) }),
  z.strictObject({
    ...base,
    type: z.literal('participant.permission'),
    participantId: z.string().min(1).max(64),
    permission: PermissionSchema,
  }),
  z.strictObject({
    ...base,
    type: z.literal('stream.control'),
    streamId: z.string().min(1).max(64),
    ops: z.array(StreamPatchOpSchema).min(1).max(32),
  }),
  z.strictObject({ ...base, type: z.literal('stream.remove'), streamId: z.string().min(1).max(64) }),
  z.strictObject({ ...base, type: z.literal('room.close') }),
  /** A client's signaling request, forwarded by the signaling function; the node answers the connection. */
  z.strictObject({
    ...base,
    type: z.literal('signal'),
    connectionId: z.string().min(1).max(128),
    participant: z.strictObject({
      id: z.string().min(1).max(64),
      user: z.string().min(1).max(128),
      role: z.string().min(1).max(64),
      permission: PermissionSchema,
    }),
    request: RequestSchema,
  }),
  /** The participant's WebSocket closed (left, tab closed, network gone). */
  z.strictObject({
    ...base,
    type: z.literal('connection.closed'),
    connectionId: z.string().min(1).max(128),
    participantId: z.string().min(1).max(64),
  }),
]);

export type NodeCommand = z.infer<typeof NodeCommandSchema>;
type Distribute<T> = T extends unknown ? Omit<T, 'id' | 'issuedAt'> : never;
/** A command as a caller describes it; the bus adds `id` and `issuedAt`. */
export type NodeCommandInput = Distribute<NodeCommand>;
