import { z } from 'zod';
import { LayoutRegionSchema } from './room.ts';

const mediaPermission = z.union([
  z.literal(false),
  z.strictObject({ audio: z.boolean(), video: z.boolean() }),
]);

export const PermissionSchema = z.strictObject({ publish: mediaPermission, subscribe: mediaPermission });
export type Permission = z.infer<typeof PermissionSchema>;

const id = z.string().min(1).max(64);

/** A participant in a live room; written by signaling, read and changed by the REST API. */
export const ParticipantSchema = z.object({
  id,
  roomId: id,
  user: z.string().min(1).max(128),
  role: z.string().min(1).max(64),
  permission: PermissionSchema,
  joinedAt: z.iso.datetime(),
  /** The media node hosting it (commands for it go there); absent on records older than this field. */
  nodeId: z.string().max(64).optional(),
  version: z.number().int().min(1),
});
export type Participant = z.infer<typeof ParticipantSchema>;

export const StreamStatusSchema = z.enum(['active', 'inactive']);

const StreamTrackSchema = z.object({
  status: StreamStatusSchema,
  format: z.object({
    codec: z.string().max(32),
    sampleRate: z.number().int().optional(),
    channelNum: z.number().int().optional(),
    profile: z.string().max(8).optional(),
  }),
  source: z
    .enum(['mic', 'camera', 'screen-cast', 'raw-file', 'encoded-file', 'streaming', 'mixed'])
    .optional(),
  parameters: z
    .object({
      resolution: z.object({ width: z.number().int(), height: z.number().int() }).optional(),
      framerate: z.number().optional(),
      bitrate: z.number().optional(),
    })
    .optional(),
});

/**
 * Where a stream comes from (a Tessera extra on OWT's record, `info.origin`): a participant's
 * publication, a stream piped in from another media node of the room, or a media pipeline's
 * output (a mixer, a transcoder, a stream pulled in).
 */
export const StreamOriginSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('participant'), participantId: id }),
  z.strictObject({ kind: z.literal('pipe'), fromNode: z.string().min(1).max(128) }),
  z.strictObject({
    kind: z.literal('pipeline'),
    pipelineId: id,
    pipelineKind: z.string().max(32).optional(),
  }),
]);
export type StreamOrigin = z.infer<typeof StreamOriginSchema>;

/**
 * A published (forward) or mixed stream in a live room, in OWT's shape. A publication (a camera
 * with its microphone) is one stream whatever its number of tracks; `id` is the publication's.
 */
export const StreamSchema = z.object({
  id,
  roomId: id,
  type: z.enum(['forward', 'mixed']),
  media: z.object({ audio: StreamTrackSchema.optional(), video: StreamTrackSchema.optional() }),
  info: z.object({
    owner: z.string().max(64).optional(),
    type: z.enum(['webrtc', 'streaming', 'sip', 'analytics', 'mixed']),
    inViews: z.array(z.string().max(64)),
    attributes: z.record(z.string().max(64), z.string().max(1024)).optional(),
    label: z.string().max(64).optional(),
    layout: z.array(z.object({ stream: id.optional(), region: LayoutRegionSchema })).optional(),
    /** A mixed stream's input picked by voice activity (OWT's `info.activeInput`). */
    activeInput: id.optional(),
    origin: StreamOriginSchema.optional(),
  }),
  /** The media node its owner publishes on (controls go there); absent on older records. */
  nodeId: z.string().max(64).optional(),
  version: z.number().int().min(1),
});
export type Stream = z.infer<typeof StreamSchema>;

/** OWT's participant PATCH: a list of permission replacements. */
export const ParticipantPatchSchema = z
  .array(
    z.discriminatedUnion('path', [
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/publish'),
        value: mediaPermission,
      }),
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/subscribe'),
        value: mediaPermission,
      }),
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/publish/audio'),
        value: z.boolean(),
      }),
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/publish/video'),
        value: z.boolean(),
      }),
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/subscribe/audio'),
        value: z.boolean(),
      }),
      z.strictObject({
        op: z.literal('replace'),
        path: z.literal('/permission/subscribe/video'),
        value: z.boolean(),
      }),
    ]),
  )
  .min(1)
  .max(16);
export type ParticipantPatch = z.infer<typeof ParticipantPatchSchema>;
