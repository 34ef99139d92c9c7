import { z } from 'zod';

/**
 * OWT's recordings (RESTAPI.md §5.6): a request names the room's streams whose audio and video
 * are copied into a file (they may come from different streams), the record says where it went.
 * Tessera keeps a record after the recording ends, with its status, size and duration.
 */
export const RecordingContainerSchema = z.enum(['auto', 'mkv', 'mp4', 'webm']);
export type RecordingContainer = Exclude<z.infer<typeof RecordingContainerSchema>, 'auto'>;

/** What each container takes without re-encoding (ffmpeg 5.1 muxers), by codec mime type. */
const CONTAINS: Record<RecordingContainer, ReadonlySet<string>> = {
  mkv: new Set([
    'video/vp8',
    'video/vp9',
    'video/h264',
    'video/h265',
    'video/av1',
    'audio/opus',
    'audio/pcmu',
    'audio/pcma',
    'audio/g722',
    'audio/aac',
  ]),
  webm: new Set(['video/vp8', 'video/vp9', 'video/av1', 'audio/opus']),
  mp4: new Set(['video/h264', 'video/h265', 'video/vp9', 'video/av1', 'audio/opus', 'audio/aac']),
};

/**
 * The container a request gets: `auto` is OWT's rule, by the codecs the file will hold (mime
 * types): mp4 for H.264/H.265 with AAC (AAC needs re-encoding: WebRTC audio is opus), else mkv.
 * Throws nothing: see `refusedCodecs`.
 */
export const containerFor = (
  wanted: z.infer<typeof RecordingContainerSchema>,
  mimeTypes: readonly string[] = [],
): RecordingContainer => {
  if (wanted !== 'auto') return wanted;
  const mp4 = new Set(['video/h264', 'video/h265', 'audio/aac']);
  return mimeTypes.length > 0 && mimeTypes.every((m) => mp4.has(m.toLowerCase())) ? 'mp4' : 'mkv';
};

/** The codecs (`audio/opus`, `video/vp8`…) a container cannot hold without re-encoding. */
export const refusedCodecs = (container: RecordingContainer, mimeTypes: readonly string[]): string[] =>
  mimeTypes.filter((m) => !CONTAINS[container].has(m.toLowerCase()));

const from = z.string().min(1).max(64);
const audioFormat = z.strictObject({
  codec: z.string().min(1).max(32),
  sampleRate: z.number().int().positive().optional(),
  channelNum: z.number().int().min(1).max(8).optional(),
});
const videoFormat = z.strictObject({
  codec: z.string().min(1).max(32),
  profile: z.string().max(8).optional(),
});
/** OWT's video parameters of a subscription: asking for any of them needs transcoding. */
const videoParameters = z.strictObject({
  resolution: z.strictObject({ width: z.number().int(), height: z.number().int() }).optional(),
  framerate: z.number().optional(),
  bitrate: z.union([z.string().max(16), z.number()]).optional(),
  keyFrameInterval: z.number().optional(),
});

export const RecordingRequestSchema = z
  .strictObject({
    container: RecordingContainerSchema.default('auto'),
    media: z.strictObject({
      audio: z
        .union([z.literal(false), z.strictObject({ from, format: audioFormat.optional() })])
        .default(false),
      video: z
        .union([
          z.literal(false),
          z.strictObject({ from, format: videoFormat.optional(), parameters: videoParameters.optional() }),
        ])
        .default(false),
    }),
  })
  .refine((r) => r.media.audio !== false || r.media.video !== false, {
    message: 'record audio, video or both',
    path: ['media'],
  });
export type RecordingRequest = z.infer<typeof RecordingRequestSchema>;

export const RecordingStatusSchema = z.enum(['starting', 'recording', 'stopping', 'stopped', 'failed']);
export type RecordingStatus = z.infer<typeof RecordingStatusSchema>;

const track = <F extends z.ZodType>(format: F) =>
  z.object({
    from,
    /** What the file holds: the source's codec, or the one it is re-encoded to. */
    format: format.optional(),
    status: z.literal('active'),
    /** Re-encoded (a codec or video parameters were asked for): a switch of `from` keeps `format`. */
    transcoded: z.boolean().optional(),
  });

export const RecordingFileSchema = z.object({
  key: z.string().max(512),
  bytes: z.number().int().min(0),
  /** Where it is, for an operator: an absolute path on the node, or `s3://bucket/key`. */
  location: z.string().max(1024),
});

/** A recording's durable record (stored under the room's key), as REST shows it less `nodeId`. */
export const RecordingSchema = z.object({
  id: z.string().min(1).max(64),
  /** The `<service>/<room>` key in the store; the service's own room id over REST. */
  roomId: z.string().max(200),
  container: RecordingContainerSchema,
  media: z.object({ audio: track(audioFormat).optional(), video: track(videoFormat).optional() }),
  /** OWT's: the node that writes it and its first file. */
  storage: z.object({ host: z.string().max(128), file: z.string().max(512) }),
  status: RecordingStatusSchema,
  /** The node recording it (commands go there). */
  nodeId: z.string().max(128).optional(),
  createdAt: z.iso.datetime(),
  endedAt: z.iso.datetime().optional(),
  /** Bytes and media time written, from the node's report at its end. */
  bytes: z.number().int().min(0),
  durationMs: z.number().int().min(0),
  /** One part per ffmpeg run (a crash starts the next), each once stored. */
  files: z.array(RecordingFileSchema).max(100),
  /** Why it failed, or how it ended (stopped, input gone, room closed). */
  reason: z.string().max(1000).optional(),
  /**
   * Failed by the control plane because its node stopped reporting (RecordingService): the
   * node's own later report (its recovery at restart) still replaces what this says.
   */
  lost: z.boolean().optional(),
  /** When the control plane first found the recording's node gone from the registry (RecordingService). */
  nodeMissingSince: z.iso.datetime().optional(),
  version: z.number().int().min(1),
});
export type Recording = z.infer<typeof RecordingSchema>;
