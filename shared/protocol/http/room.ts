import { z } from 'zod';
import { safeText } from './text.ts';

/**
 * OWT's room model (RESTAPI.md §5.1, roomModel.js), with OWT's defaults, so a room body
 * written for OWT works here. Unknown fields are rejected, not silently dropped.
 */
const mediaOnOff = z.strictObject({ audio: z.boolean(), video: z.boolean() });

export const RoleSchema = z.strictObject({
  role: safeText(64).regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
  publish: mediaOnOff,
  subscribe: mediaOnOff,
});

const audioFormat = z.strictObject({
  codec: z.enum(['opus', 'isac', 'g722', 'pcma', 'pcmu', 'aac', 'ac3', 'nellymoser', 'ilbc']),
  sampleRate: z.number().int().positive().optional(),
  channelNum: z.number().int().min(1).max(8).optional(),
});

const videoFormat = z.strictObject({
  codec: z.enum(['h264', 'h265', 'vp8', 'vp9', 'av1']),
  profile: z.enum(['CB', 'B', 'M', 'H']).optional(),
});

const byte = z.number().int().min(0).max(255);
const resolution = z.strictObject({
  width: z.number().int().min(16).max(7680),
  height: z.number().int().min(16).max(4320),
});
/** OWT writes region coordinates as fraction strings ("1/3", "0", "1"). */
const fraction = z.string().regex(/^(0|1|\d+\/\d+)$/, 'a fraction such as "1/3"');

const RegionSchema = z.strictObject({
  id: z.string().min(1).max(64),
  shape: z.literal('rectangle'),
  area: z.strictObject({ left: fraction, top: fraction, width: fraction, height: fraction }),
});

const ViewVideoSchema = z.strictObject({
  format: videoFormat.prefault({ codec: 'vp8' }),
  parameters: z
    .strictObject({
      resolution: resolution.prefault({ width: 640, height: 480 }),
      framerate: z.number().int().min(1).max(120).default(24),
      bitrate: z.number().int().positive().optional(),
      keyFrameInterval: z.number().int().min(1).max(1000).default(100),
    })
    .prefault({}),
  maxInput: z.number().int().min(1).max(256).default(16),
  motionFactor: z.number().min(0).max(1).default(0.8),
  bgColor: z.strictObject({ r: byte, g: byte, b: byte }).prefault({ r: 0, g: 0, b: 0 }),
  keepActiveInputPrimary: z.boolean().default(false),
  layout: z
    .strictObject({
      fitPolicy: z.enum(['letterbox', 'crop']).default('letterbox'),
      templates: z
        .strictObject({
          base: z.enum(['fluid', 'lecture', 'void']).default('fluid'),
          custom: z
            .array(z.strictObject({ primary: z.string().optional(), region: z.array(RegionSchema).max(256) }))
            .max(64)
            .default([]),
        })
        .prefault({}),
    })
    .prefault({}),
});

export const ViewSchema = z.strictObject({
  label: safeText(64).default('common'),
  audio: z
    .union([z.literal(false), z.strictObject({ format: audioFormat, vad: z.boolean().default(true) })])
    .prefault({ format: { codec: 'opus', sampleRate: 48000, channelNum: 2 } }),
  video: z.union([z.literal(false), ViewVideoSchema]).prefault({}),
});

const defaultRoles: z.input<typeof RoleSchema>[] = [
  { role: 'presenter', publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  { role: 'viewer', publish: { audio: false, video: false }, subscribe: { audio: true, video: true } },
  {
    role: 'audio_only_presenter',
    publish: { audio: true, video: false },
    subscribe: { audio: true, video: false },
  },
  {
    role: 'video_only_viewer',
    publish: { audio: false, video: false },
    subscribe: { audio: false, video: true },
  },
  { role: 'sip', publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
];

const videoParameterChoices = z.strictObject({
  resolution: z.array(z.string().max(16)).max(32),
  framerate: z.array(z.number().int().min(1).max(120)).max(16),
  bitrate: z.array(z.string().max(16)).max(16),
  keyFrameInterval: z.array(z.number().int().min(1).max(1000)).max(16),
});

export const RoomOptionsSchema = z.strictObject({
  participantLimit: z.number().int().min(-1).max(100_000).default(-1),
  inputLimit: z.number().int().min(-1).max(100_000).default(-1),
  roles: z.array(RoleSchema).max(32).default(defaultRoles),
  views: z.array(ViewSchema).max(16).prefault([{}]),
  mediaIn: z
    .strictObject({ audio: z.array(audioFormat).max(16), video: z.array(videoFormat).max(16) })
    .default({
      audio: [
        { codec: 'opus', sampleRate: 48000, channelNum: 2 },
        { codec: 'isac', sampleRate: 16000 },
        { codec: 'isac', sampleRate: 32000 },
        { codec: 'g722', sampleRate: 16000, channelNum: 1 },
        { codec: 'pcma' },
        { codec: 'pcmu' },
        { codec: 'aac' },
        { codec: 'ac3' },
        { codec: 'nellymoser' },
        { codec: 'ilbc' },
      ],
      video: [{ codec: 'h264' }, { codec: 'vp8' }, { codec: 'vp9' }, { codec: 'av1' }, { codec: 'h265' }],
    }),
  mediaOut: z
    .strictObject({
      audio: z.array(audioFormat).max(16),
      video: z.strictObject({ format: z.array(videoFormat).max(16), parameters: videoParameterChoices }),
    })
    .default({
      audio: [
        { codec: 'opus', sampleRate: 48000, channelNum: 2 },
        { codec: 'pcma' },
        { codec: 'pcmu' },
        { codec: 'aac', sampleRate: 48000, channelNum: 2 },
      ],
      video: {
        format: [
          { codec: 'vp8' },
          { codec: 'h264', profile: 'CB' },
          { codec: 'h264', profile: 'B' },
          { codec: 'vp9' },
        ],
        parameters: {
          resolution: [
            'x3/4',
            'x2/3',
            'x1/2',
            'x1/3',
            'x1/4',
            'hd1080p',
            'hd720p',
            'svga',
            'vga',
            'qvga',
            'cif',
          ],
          framerate: [6, 12, 15, 24, 30, 48, 60],
          bitrate: ['x0.8', 'x0.6', 'x0.4', 'x0.2'],
          keyFrameInterval: [100, 30, 5, 2, 1],
        },
      },
    }),
  transcoding: z
    .strictObject({
      audio: z.boolean(),
      video: z.strictObject({
        format: z.boolean(),
        parameters: z.strictObject({
          resolution: z.boolean(),
          framerate: z.boolean(),
          bitrate: z.boolean(),
          keyFrameInterval: z.boolean(),
        }),
      }),
    })
    .default({
      audio: true,
      video: {
        format: true,
        parameters: { resolution: true, framerate: true, bitrate: true, keyFrameInterval: true },
      },
    }),
  notifying: z
    .strictObject({ participantActivities: z.boolean(), streamChange: z.boolean() })
    .default({ participantActivities: true, streamChange: true }),
  selectActiveAudio: z.boolean().default(false),
  enableBandwidthAdaptation: z.boolean().default(false),
});

const roomName = safeText(128);
const roomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, _ or -');

export const CreateRoomSchema = z.strictObject({
  name: roomName,
  /** Optional caller-chosen id; generated when absent. A taken id is a conflict (409). */
  id: roomId.optional(),
  options: RoomOptionsSchema.prefault({}),
});

/** PUT: the whole room (name and every option; omitted options take their defaults). */
export const ReplaceRoomSchema = z.strictObject({
  name: roomName,
  options: RoomOptionsSchema.prefault({}),
});

/**
 * The room options with every field optional and no defaults: `.partial()` alone would still
 * fill omitted fields with their defaults, and a PATCH would reset what it did not mention.
 */
const RoomOptionsPatchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(RoomOptionsSchema.shape).map(([key, field]) => [
      key,
      (field instanceof z.ZodDefault || field instanceof z.ZodPrefault ? field.unwrap() : field).optional(),
    ]),
  ) as unknown as {
    [K in keyof typeof RoomOptionsSchema.shape]: z.ZodOptional<
      z.ZodType<z.output<(typeof RoomOptionsSchema.shape)[K]>>
    >;
  },
);

/** PATCH: name and/or any top-level options; untouched fields keep their values. */
export const PatchRoomSchema = z
  .strictObject({
    name: roomName.optional(),
    options: RoomOptionsPatchSchema.optional(),
  })
  .refine(
    (p) => p.name !== undefined || (p.options && Object.keys(p.options).length > 0),
    'nothing to change',
  );

export type RoomOptions = z.infer<typeof RoomOptionsSchema>;
export type Role = z.infer<typeof RoleSchema>;

/** A stored room as the API returns it; `version` is its ETag and the precondition of updates. */
export const RoomSchema = z.object({
  id: roomId,
  serviceId: z.string(),
  name: roomName,
  options: RoomOptionsSchema,
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Room = z.infer<typeof RoomSchema>;

export const RoomIdSchema = roomId;
