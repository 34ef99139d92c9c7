import { z } from 'zod';

/**
 * Push ingest (`/v1/rooms/{room}/ingresses`, as LiveKit's Ingress): an encoder (OBS, ffmpeg, a
 * hardware encoder) pushes to the room's media node with a stream key and becomes a forward
 * stream of the room (`info.type` streaming), whose id is the ingress's.
 */
const onOff = z.union([z.literal('auto'), z.boolean()]).default('auto');
export const IngressRequestSchema = z
  .strictObject({
    protocol: z.literal('rtmp'),
    media: z.strictObject({ audio: onOff, video: onOff }).default({ audio: 'auto', video: 'auto' }),
  })
  .refine((r) => r.media.audio !== false || r.media.video !== false, {
    message: 'bring audio, video or both',
    path: ['media'],
  });
export type IngressRequest = z.infer<typeof IngressRequestSchema>;

/** What POST answers, once: where to push. The key is the ingress's secret: it is not shown again. */
export const IngressSchema = z.object({
  id: z.string(),
  protocol: z.literal('rtmp'),
  /** The server URL an encoder is given (OBS: "Server"). */
  url: z.string(),
  /** OBS: "Stream Key"; the full publish URL is `${url}/${streamKey}`. */
  streamKey: z.string(),
  media: z.object({ audio: z.boolean(), video: z.boolean() }),
});
export type Ingress = z.infer<typeof IngressSchema>;
