import { z } from 'zod';

/**
 * OWT's streaming-ins (RESTAPI.md §5.4): an RTSP or RTMP source pulled into the room as a
 * forward stream of the `streaming` type (`connection {url, transportProtocol, bufferSize}`,
 * `media {audio, video}` as `auto` or false).
 */
const onOff = z.union([z.literal('auto'), z.boolean()]).default('auto');
export const StreamingInRequestSchema = z
  .strictObject({
    connection: z.strictObject({
      url: z.string().min(1).max(2048),
      transportProtocol: z.enum(['tcp', 'udp']).default('tcp'),
      /** OWT's UDP buffer size: accepted, ffmpeg sizes its own. */
      bufferSize: z
        .number()
        .int()
        .min(0)
        .max(64 * 1024 * 1024)
        .optional(),
    }),
    media: z.strictObject({ audio: onOff, video: onOff }).default({ audio: 'auto', video: 'auto' }),
  })
  .refine((r) => r.media.audio !== false || r.media.video !== false, {
    message: 'bring audio, video or both',
    path: ['media'],
  });
export type StreamingInRequest = z.infer<typeof StreamingInRequestSchema>;

/** What POST answers: the stream to come (it is listed under /streams once its first frame flows). */
export const StreamingInSchema = z.object({
  id: z.string(),
  type: z.literal('forward'),
  media: z.object({ audio: z.boolean(), video: z.boolean() }),
  info: z.object({ type: z.literal('streaming'), inViews: z.array(z.string()) }),
  url: z.string(),
});
export type StreamingIn = z.infer<typeof StreamingInSchema>;
