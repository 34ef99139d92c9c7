import { z } from 'zod';
import { PermissionSchema } from './http/liveState.ts';
import { MAX_ROOM_KEY_LENGTH } from './http/roomKey.ts';
import { RequestSchema } from './signaling.ts';

/**
 * Commands from the control plane to a media node, carried by the command bus (an SQS queue
 * per node). SQS delivers at least once, so every command has an id and nodes process each id
 * at most once. Nodes validate every message with this schema before acting on it.
 */
const nodeId = z.string().regex(/^[\w-]{1,40}$/);
/** Where a PipeTransport listens, and its SRTP key when the link is encrypted. */
const pipeEndpoint = z.strictObject({
  ip: z.string().max(64),
  port: z.number().int().min(1).max(65535),
  srtpParameters: z
    .strictObject({
      cryptoSuite: z.enum([
        'AEAD_AES_256_GCM',
        'AEAD_AES_128_GCM',
        'AES_CM_128_HMAC_SHA1_80',
        'AES_CM_128_HMAC_SHA1_32',
      ]),
      keyBase64: z.string().max(128),
    })
    .optional(),
});

/**
 * The sending node of a node-to-node command, and which life of its part of the room: a node
 * restarted under the same id has a new instance, so the others drop what they held of the old.
 */
const fromPeer = { fromNode: nodeId, fromInstance: z.uuid() };

const base = {
  id: z.uuid(),
  /** The room's key, `<serviceId>/<roomId>` (http/roomKey.ts). */
  roomId: z.string().min(1).max(MAX_ROOM_KEY_LENGTH),
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
  /** Node to node: open a one-way media link for a room; the receiver answers with pipe.opened. */
  z.strictObject({
    ...base,
    type: z.literal('pipe.open'),
    ...fromPeer,
    linkId: z.uuid(),
    endpoint: pipeEndpoint,
  }),
  z.strictObject({
    ...base,
    type: z.literal('pipe.opened'),
    ...fromPeer,
    linkId: z.uuid(),
    endpoint: pipeEndpoint,
  }),
  /** Node to node: a stream of the sender's, now flowing over link `linkId`, to produce for local subscribers. */
  z.strictObject({
    ...base,
    type: z.literal('pipe.produce'),
    ...fromPeer,
    linkId: z.uuid(),
    producerId: z.string().min(1).max(64),
    kind: z.enum(['audio', 'video']),
    rtpParameters: z.record(z.string(), z.unknown()),
    owner: z.string().min(1).max(64),
    source: z.string().max(32),
    /** The publication (OWT stream) the track belongs to, and its OWT type (absent: its own, forward). */
    publication: z.string().min(1).max(64).optional(),
    streamType: z.enum(['forward', 'mixed']).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('pipe.close'),
    ...fromPeer,
    producerId: z.string().min(1).max(64),
  }),
  /** Node to node: a node that just opened the room asks the others for their streams and participants. */
  z.strictObject({ ...base, type: z.literal('pipe.request'), ...fromPeer }),
  /** Node to node: the sender's part of the room closed (drain, shutdown, emptied): forget its links, streams and participants. */
  z.strictObject({ ...base, type: z.literal('pipe.leave'), ...fromPeer }),
  /** Node to node: a participant joined or left on the sending node. */
  z.strictObject({
    ...base,
    type: z.literal('room.relay'),
    ...fromPeer,
    action: z.enum(['join', 'leave']),
    participant: z.strictObject({
      id: z.string().min(1).max(64),
      user: z.string().min(1).max(128),
      role: z.string().min(1).max(64),
    }),
  }),
  /** Node to node: a text from a participant on the sending node, for everyone or for one participant here. */
  z.strictObject({
    ...base,
    type: z.literal('room.text'),
    ...fromPeer,
    from: z.string().min(1).max(64),
    to: z.union([z.literal('all'), z.string().min(1).max(64)]),
    message: z.string().min(1).max(2048),
  }),
  /**
   * The participant's WebSocket closed (left, tab closed, network gone). Its place is kept for
   * `graceMs` (a resume may take it over); 0 or absent: it left.
   */
  z.strictObject({
    ...base,
    type: z.literal('connection.closed'),
    connectionId: z.string().min(1).max(128),
    participantId: z.string().min(1).max(64),
    graceMs: z.number().int().min(0).max(3_600_000).optional(),
    /**
     * The connection had logged in or came to resume (it held a ticket): its session may live on
     * elsewhere (moved to another node, or this node restarted since), so no peer here is no
     * reason to end the participant.
     */
    session: z.boolean().optional(),
  }),
]);

export type NodeCommand = z.infer<typeof NodeCommandSchema>;
type Distribute<T> = T extends unknown ? Omit<T, 'id' | 'issuedAt'> : never;
/** A command as a caller describes it; the bus adds `id` and `issuedAt`. */
export type NodeCommandInput = Distribute<NodeCommand>;
