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
/**
 * A region coordinate in [0, 1]: OWT stores fraction strings ("1/3", "0", "1"; fraction.js in
 * roomModel.js), and its REST guide documents numbers; both are accepted and kept as given.
 */
const fraction = z.union([
  z.number().min(0).max(1),
  z
    .string()
    .max(16)
    .regex(/^(\d+\/\d+|\d*\.?\d+)$/, 'a fraction such as "1/3" or "0.25"')
    .refine((v) => {
      const [n, d] = v.includes('/') ? v.split('/').map(Number) : [Number(v), 1];
      return d! > 0 && n! / d! <= 1;
    }, 'a fraction in [0, 1]'),
]);

/** OWT's region: `{id, shape: 'rectangle', area: {left, top, width, height}}` (shape defaults as in OWT). */
export const RegionSchema = z.strictObject({
  id: z.string().min(1).max(64),
  shape: z.literal('rectangle').default('rectangle'),
  area: z.strictObject({ left: fraction, top: fraction, width: fraction, height: fraction }),
});

/** A region in a mixed stream's layout: OWT's region, or just its id (the area stays the template's). */
export const LayoutRegionSchema = RegionSchema.extend({ area: RegionSchema.shape.area.optional() });

const ViewVideoSchema = z.strictObject({
  // H.264 (constrained baseline), not OWT's VP8: x264 ultrafast costs a fraction of libvpx
  // realtime for the same canvas (docs/benchmarks.md), and every browser decodes it.
  format: videoFormat.prefault({ codec: 'h264', profile: 'CB' }),
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
      /** OWT's roomModel.js has it (undocumented); kept so OWT room objects round-trip. */
      setRegionEffect: z.string().max(64).optional(),
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

/**
 * A view's label names its mixed stream (`mixed-<label>`, a stream id of at most 64 characters
 * used in REST paths): at most 58 characters, none that a URL path would split or re-read.
 */
const viewLabel = safeText(58).refine((s) => !/[/?#%\\]/.test(s), 'no / ? # % or \\ in a view label');

export const ViewSchema = z.strictObject({
  label: viewLabel.default('common'),
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
  views: z
    .array(ViewSchema)
    .max(16)
    // Each view is one mixed stream, named by its label.
    .refine((views) => new Set(views.map((v) => v.label)).size === views.length, 'view labels must differ')
    .prefault([{}]),
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
  /**
   * OWT's SIP settings (absent by default, as in OWT). OWT's console sends empty strings for a
   * room without SIP; any non-empty field asks for the SIP gateway (see unimplemented.ts).
   */
  sip: z
    .strictObject({
      sipServer: z.string().max(256).optional(),
      username: z.string().max(128).optional(),
      password: z.string().max(128).optional(),
    })
    .optional(),
});

const roomName = safeText(128);
const roomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, _ or -');

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
export type RoomOptionsPatch = z.infer<typeof RoomOptionsPatchSchema>;
const optionKeys = Object.keys(RoomOptionsSchema.shape) as (keyof RoomOptions)[];

/**
 * Every room write body. Two forms, as OWT clients send them:
 * - Tessera's and OWT's POST: `{name, options: {…}}`;
 * - OWT's room object, flat: `{name, participantLimit, views, …}` (OWT's PUT body; also what
 *   GET answers, so a room read, changed and written back round-trips; its read-only fields
 *   `_id`, `id`, `serviceId`, `version`, `createdAt`, `updatedAt`, `__v` are tolerated).
 * Unknown fields are refused, not silently dropped.
 */
export const RoomBodySchema = RoomOptionsPatchSchema.extend({
  name: roomName.optional(),
  /** Optional caller-chosen id on POST (generated when absent; a taken id is a 409). */
  id: roomId.optional(),
  _id: roomId.optional(),
  options: RoomOptionsPatchSchema.optional(),
  serviceId: z.string().max(64).optional(),
  version: z.number().int().optional(),
  createdAt: z.string().max(64).optional(),
  updatedAt: z.string().max(64).optional(),
  __v: z.number().int().optional(),
}).superRefine((body, ctx) => {
  if (body.id !== undefined && body._id !== undefined && body.id !== body._id)
    ctx.addIssue({ code: 'custom', path: ['_id'], message: 'id and _id differ' });
  const flat = optionKeys.filter((k) => body[k] !== undefined);
  if (body.options !== undefined && flat.length > 0)
    ctx.addIssue({
      code: 'custom',
      path: [flat[0]!],
      message: 'give the options either flat (OWT room object) or under options, not both',
    });
});
export type RoomBody = z.infer<typeof RoomBodySchema>;

/** A room write, normalized: which form it came in, and the options it names. */
export interface RoomInput {
  name?: string;
  id?: string;
  /** `nested`: `{name, options}`; `flat`: OWT's room object. */
  form: 'nested' | 'flat';
  options: RoomOptionsPatch;
}

export function roomInput(body: RoomBody): RoomInput {
  const options: RoomOptionsPatch = body.options ?? {};
  if (body.options === undefined)
    for (const key of optionKeys) if (body[key] !== undefined) Object.assign(options, { [key]: body[key] });
  const id = body.id ?? body._id;
  return {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(id !== undefined ? { id } : {}),
    form: body.options !== undefined ? 'nested' : 'flat',
    options,
  };
}

/** POST needs a name. */
export const CreateRoomSchema = RoomBodySchema.refine((b) => b.name !== undefined, {
  path: ['name'],
  message: 'a room needs a name',
});

/** PUT and PATCH need something to change (read-only echoes do not count). */
export const UpdateRoomSchema = RoomBodySchema.refine(
  (b) =>
    b.name !== undefined ||
    (b.options !== undefined && Object.keys(b.options).length > 0) ||
    optionKeys.some((k) => b[k] !== undefined),
  'nothing to change',
);

export type RoomOptions = z.infer<typeof RoomOptionsSchema>;
export type Role = z.infer<typeof RoleSchema>;

/** A stored room; `version` is its ETag and the precondition of updates. */
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

/**
 * A room as the API answers: OWT's room object (flat options, `_id`) with Tessera's `id`,
 * `serviceId`, `version` (also the ETag), `createdAt` and `updatedAt`.
 */
export const RoomResponseSchema = RoomOptionsSchema.extend({
  _id: roomId,
  id: roomId,
  name: roomName,
  serviceId: z.string(),
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type RoomResponse = z.infer<typeof RoomResponseSchema>;

export function roomResponse(room: Room): RoomResponse {
  return {
    _id: room.id,
    id: room.id,
    name: room.name,
    ...room.options,
    serviceId: room.serviceId,
    version: room.version,
    createdAt: room.createdAt,
    updatedAt: room.updatedAt,
  };
}
