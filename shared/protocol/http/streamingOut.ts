import { z } from 'zod';
import { VideoTranscodeParametersSchema } from '../signaling.ts';

/**
 * OWT's streaming-outs (RESTAPI.md §5.5): a room's audio and video (from one stream or two)
 * pushed, as H.264 + AAC, to an RTMP server, an RTSP server, or an HTTP origin as HLS or DASH.
 */
const from = z.string().min(1).max(64);
export const StreamingProtocolSchema = z.enum(['rtmp', 'rtsp', 'hls', 'dash']);

export const StreamingOutRequestSchema = z
  .strictObject({
    protocol: StreamingProtocolSchema,
    url: z.string().min(1).max(2048),
    /** OWT's HLS/DASH parameters (`hlsTime`, `dashSegDuration`…): only with those protocols. */
    parameters: z.record(z.string().max(32), z.union([z.string().max(64), z.number()])).optional(),
    media: z.strictObject({
      audio: z
        .union([
          z.literal(false),
          z.strictObject({ from, format: z.record(z.string(), z.unknown()).optional() }),
        ])
        .default(false),
      video: z
        .union([
          z.literal(false),
          z.strictObject({
            from,
            format: z.record(z.string(), z.unknown()).optional(),
            /** OWT's video parameters (size, frame rate, `x0.8` bit rate, key-frame interval), as a subscription's. */
            parameters: VideoTranscodeParametersSchema.optional(),
          }),
        ])
        .default(false),
    }),
  })
  .refine((r) => r.media.audio !== false || r.media.video !== false, {
    message: 'stream audio, video or both',
    path: ['media'],
  });
export type StreamingOutRequest = z.infer<typeof StreamingOutRequestSchema>;

/**
 * OWT's PATCH of a streaming-out (RESTAPI.md §5.5, subscription-control ops): another stream's
 * audio or video, or other video parameters (each value checked as on start), live.
 */
export const StreamingOutPatchOpSchema = z.union([
  z.strictObject({ op: z.literal('replace'), path: z.literal('/media/audio/from'), value: from }),
  z.strictObject({ op: z.literal('replace'), path: z.literal('/media/video/from'), value: from }),
  z.strictObject({
    op: z.literal('replace'),
    path: z.templateLiteral(['/media/video/parameters/', z.string().max(32)]),
    value: z.unknown(),
  }),
]);
export type StreamingOutPatchOp = z.infer<typeof StreamingOutPatchOpSchema>;

export const StreamingOutStatusSchema = z.enum(['starting', 'streaming', 'failed']);

/** A streaming-out while it runs (live state, under the room's key); REST shows it less `nodeId`. */
export const StreamingOutSchema = z.object({
  id: z.string().min(1).max(64),
  roomId: z.string().max(200),
  protocol: z.enum(['rtmp', 'rtsp', 'hls', 'dash']),
  /** HLS/DASH: OWT's parameters as given (`method`, `hlsTime`, `hlsListSize`, `dashSegDuration`, `dashWindowSize`). */
  parameters: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** As given (it may carry a stream key: shown to the room's service only, never logged). */
  url: z.string().max(2048),
  media: z.object({
    audio: z.object({ from, format: z.object({ codec: z.literal('aac') }) }).optional(),
    video: z
      .object({
        from,
        format: z.object({ codec: z.literal('h264'), profile: z.literal('CB') }),
        parameters: VideoTranscodeParametersSchema.optional(),
      })
      .optional(),
  }),
  status: StreamingOutStatusSchema,
  nodeId: z.string().max(128).optional(),
  createdAt: z.iso.datetime(),
  /** Why it failed (after its reconnects ran out, or it could not start). */
  reason: z.string().max(1000).optional(),
  version: z.number().int().min(1),
});
export type StreamingOut = z.infer<typeof StreamingOutSchema>;
