import { z } from 'zod';
import { LayoutRegionSchema } from './http/room.ts';

/**
 * The WebSocket signaling protocol. A client request `{id, method, params}` gets exactly one
 * response `{id, ok, data | error}`; the server pushes `{event, data}`. Methods follow OWT's
 * portal protocol with mediasoup semantics. mediasoup's own parameter objects (RTP parameters,
 * DTLS parameters, RTP capabilities) are checked for shape here and for meaning by mediasoup.
 */
const id = z.string().min(1).max(64);

/**
 * Whether a JSON-like value nests at most `maxDepth` containers deep and holds at most
 * `maxNodes` values in all. Iterative, so a hostile 10,000-level structure is refused here
 * instead of overflowing the stack of a recursive walk (JSON.stringify, a deep schema). Run it
 * before anything that recurses into client data.
 */
export function withinJsonBounds(
  value: unknown,
  { maxDepth = 32, maxNodes = 10_000 }: { maxDepth?: number; maxNodes?: number } = {},
): boolean {
  // Each entry: a value and how many containers enclose it.
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 1;
  while (stack.length > 0) {
    const [v, enclosing] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (enclosing + 1 > maxDepth) return false;
    if (Array.isArray(v)) {
      nodes += v.length;
      if (nodes > maxNodes) return false;
      for (const child of v) stack.push([child, enclosing + 1]);
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (++nodes > maxNodes) return false;
        stack.push([(v as Record<string, unknown>)[key], enclosing + 1]);
      }
    }
  }
  return true;
}

/** Depth and node bounds first (cheap, no recursion), then the serialized size. */
const bounded = (maxBytes: number) => (o: unknown) =>
  withinJsonBounds(o, { maxDepth: 16, maxNodes: 4_096 }) && JSON.stringify(o).length <= maxBytes;

const json = z.record(z.string().max(128), z.unknown());
/** Bounded, so a hostile client cannot make the node hold or parse huge structures. */
const boundedObject = json.refine(bounded(16_384), 'too large or too deeply nested');

export const DtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({
        // What mediasoup knows (another would make the worker throw, not answer a clear 1301).
        algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
        value: z
          .string()
          .max(256)
          .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/, 'colon-separated hex bytes'),
      }),
    )
    .min(1)
    .max(8),
});

const uint32 = z.number().int().min(0).max(0xffff_ffff);

/**
 * What a subscriber may ask of a video it receives transcoded (OWT's subscribe
 * `media.video.parameters`): `bitrate` is OWT's multiplier string (`x0.8`) of the default bit
 * rate for the size and frame rate asked for; `keyFrameInterval` is in seconds.
 */
export const VideoTranscodeParametersSchema = z.strictObject({
  resolution: z
    .strictObject({
      width: z.number().int().min(16).max(1920).multipleOf(2),
      height: z.number().int().min(16).max(1080).multipleOf(2),
    })
    .optional(),
  framerate: z.number().int().min(1).max(60).optional(),
  bitrate: z
    .string()
    .regex(/^x(\d+(\.\d+)?|\.\d+)$/, 'a multiplier such as "x0.8"')
    .refine((v) => Number(v.slice(1)) > 0 && Number(v.slice(1)) <= 4, 'a multiplier in (0, 4]')
    .optional(),
  keyFrameInterval: z.number().int().min(1).max(100).optional(),
});
export type VideoTranscodeParameters = z.infer<typeof VideoTranscodeParametersSchema>;

export const VideoTranscodeRequestSchema = z.strictObject({
  format: z
    .strictObject({
      codec: z.enum(['h264', 'h265', 'vp8', 'vp9', 'av1']),
      profile: z.enum(['CB', 'B', 'M', 'H']).optional(),
    })
    .optional(),
  parameters: VideoTranscodeParametersSchema.optional(),
});
export type VideoTranscodeRequest = z.infer<typeof VideoTranscodeRequestSchema>;

/**
 * What a subscriber may ask of an audio it receives (OWT's subscribe `media.audio.format`): any
 * of OWT's codecs may be named; WebRTC carries opus, PCMU, PCMA and G.722 (shared/media/audioOut.ts).
 */
export const AudioTranscodeRequestSchema = z.strictObject({
  format: z.strictObject({
    codec: z.enum(['opus', 'isac', 'g722', 'pcma', 'pcmu', 'aac', 'ac3', 'nellymoser', 'ilbc']),
    sampleRate: z.number().int().min(8000).max(96_000).optional(),
    channelNum: z.number().int().min(1).max(8).optional(),
  }),
});
export type AudioTranscodeRequest = z.infer<typeof AudioTranscodeRequestSchema>;
const payloadType = z.number().int().min(0).max(127);
/** SDP fmtp / extmap parameters: mediasoup takes strings and numbers only (sdp-transform turns numeric values into numbers). */
const mediaParameters = z
  .record(z.string().max(128), z.union([z.string().max(1024), z.number().finite()]))
  .refine((o) => Object.keys(o).length <= 64, 'at most 64 parameters');

/**
 * RTP parameters as mediasoup-client's `produce` sends them. The fields mediasoup reads are
 * range-checked; other fields browsers or apps add (encodings' scaleResolutionDownBy, active,
 * priority…; rtcpFeedback parameters) pass through, bounded by the depth/size refine.
 */
const RtpCodecParametersSchema = z.looseObject({
  mimeType: z
    .string()
    .max(64)
    .regex(/^(audio|video)\/[\w.+-]+$/i, 'a mime type such as video/VP8'),
  payloadType,
  clockRate: z.number().int().min(1).max(0xffff_ffff),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: mediaParameters.optional(),
  rtcpFeedback: z
    .array(z.looseObject({ type: z.string().min(1).max(64), parameter: z.string().max(64).optional() }))
    .max(32)
    .optional(),
});

/** One-byte header extension ids are 1–14, two-byte ones 1–255; mediasoup accepts both. */
const RtpHeaderExtensionParametersSchema = z.looseObject({
  uri: z.string().min(1).max(256),
  id: z.number().int().min(1).max(255),
  encrypt: z.boolean().optional(),
  parameters: mediaParameters.optional(),
});

const RtpEncodingParametersSchema = z.looseObject({
  ssrc: uint32.optional(),
  rid: z.string().min(1).max(64).optional(),
  codecPayloadType: payloadType.optional(),
  rtx: z.looseObject({ ssrc: uint32 }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  maxBitrate: z.number().min(0).max(1e10).optional(),
});

export const RtpParametersSchema = z
  .object({
    mid: z.string().max(32).optional(),
    codecs: z.array(RtpCodecParametersSchema).min(1).max(16),
    headerExtensions: z.array(RtpHeaderExtensionParametersSchema).max(32).optional(),
    encodings: z.array(RtpEncodingParametersSchema).max(8).optional(),
    rtcp: z
      .looseObject({
        cname: z.string().max(256).optional(),
        reducedSize: z.boolean().optional(),
        mux: z.boolean().optional(),
      })
      .optional(),
  })
  .refine(bounded(32_768), 'rtpParameters too large or too deeply nested');

export const RtpCapabilitiesSchema = z
  .object({
    codecs: z.array(boundedObject).max(64).optional(),
    headerExtensions: z.array(boundedObject).max(64).optional(),
  })
  .refine(bounded(65_536), 'rtpCapabilities too large or too deeply nested');

export const SourceSchema = z.enum(['mic', 'camera', 'screen-cast', 'screen-audio']);

/** Every method and its params. */
export const methodParams = {
  /**
   * `resume`: the connection came with a resume ticket; the node hands back the participant's
   * session (transports, producers, consumers) if it still holds it. `failover`: the client found
   * its node unresponsive (pings or media stalled); the control plane may move it sooner.
   */
  /** `subscribe: false`: no consumers for the streams already published (the client picks its own). */
  login: z.strictObject({
    rtpCapabilities: RtpCapabilitiesSchema.optional(),
    resume: z.boolean().optional(),
    failover: z.boolean().optional(),
    /**
     * Paused consumers in the answer: for the participants' streams (true, the default), for the
     * mixed streams as well ('all'), or none (false).
     */
    subscribe: z.union([z.boolean(), z.literal('all')]).optional(),
    /**
     * The client's DTLS parameters, the same for all its transports (one certificate for every
     * peer connection): the node connects the transports it makes and starts the answer's
     * consumers at once (the answer says `dtlsConnected`), so no `transport.connect` round trip
     * comes before ICE and DTLS.
     */
    dtlsParameters: DtlsParametersSchema.optional(),
  }),
  /** A fresh resume ticket (answered by the signaling function, not the node); the old one stops working. */
  'session.refresh': z.strictObject({}),
  logout: z.strictObject({}),
  /** Liveness of the path to the media node (the SDK rejoins when it goes unanswered). */
  ping: z.strictObject({}),
  /** `resume`: consumers the client set up while connecting, resumed in the same round trip. */
  'transport.connect': z.strictObject({
    transportId: id,
    dtlsParameters: DtlsParametersSchema,
    resume: z.array(id).max(64).optional(),
  }),
  'transport.restartIce': z.strictObject({ transportId: id }),
  /**
   * `stream`: the publication (OWT stream) this track joins, named by its first track's id; a
   * publication holds at most one audio and one video track of one participant. Without it the
   * track starts a publication of its own, named by its id.
   */
  publish: z.strictObject({
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: RtpParametersSchema,
    source: SourceSchema,
    stream: id.optional(),
  }),
  unpublish: z.strictObject({ producerId: id }),
  /**
   * One subscription per stream and participant: a second one is refused (1303) naming the first.
   * `video`: transcoding on subscribe (OWT's subscribe `media.video`), within the room's
   * `transcoding` and `mediaOut`: another codec, size, frame rate, bit rate or key-frame interval.
   * `audio`: another codec (OWT's `media.audio.format`), likewise.
   */
  subscribe: z.strictObject({
    producerId: id,
    video: VideoTranscodeRequestSchema.optional(),
    audio: AudioTranscodeRequestSchema.optional(),
  }),
  unsubscribe: z.strictObject({ consumerId: id }),
  'subscription.control': z.discriminatedUnion('operation', [
    z.strictObject({ consumerId: id, operation: z.literal('pause') }),
    z.strictObject({ consumerId: id, operation: z.literal('resume') }),
    z.strictObject({
      consumerId: id,
      operation: z.literal('preferredLayers'),
      spatialLayer: z.number().int().min(0).max(3),
      temporalLayer: z.number().int().min(0).max(3).optional(),
    }),
    z.strictObject({
      consumerId: id,
      operation: z.literal('priority'),
      priority: z.number().int().min(1).max(255),
    }),
    /**
     * OWT's `update`: a transcoded subscription's video parameters change live (the codec stays;
     * unset ones keep their value). The picture switches at the new encoder's next key frame.
     */
    z.strictObject({
      consumerId: id,
      operation: z.literal('update'),
      video: z.strictObject({ parameters: VideoTranscodeParametersSchema }),
    }),
  ]),
  /** `keyframe`: the stream's subscribers ask it for a key frame (its media path just came back). */
  'stream.control': z.strictObject({ producerId: id, operation: z.enum(['pause', 'play', 'keyframe']) }),
  text: z.strictObject({ to: z.union([z.literal('all'), id]), message: z.string().min(1).max(2048) }),
  /**
   * OWT's mix/unmix: the caller's own publication (`streamId`, a stream id as REST lists it) into
   * or out of one of the room's views. Answered by the signaling function (it holds the room's
   * views and reaches the room's host, where the mixers run), as REST's `/info/inViews` is.
   */
  'stream.mix': z.strictObject({
    streamId: id,
    view: z.string().min(1).max(64),
    op: z.enum(['add', 'remove']),
  }),
  /** Needs a publish permission for audio or video (either one); viewers publish no data. */
  'data.publish': z.strictObject({
    transportId: id,
    sctpStreamParameters: z.strictObject({
      streamId: z.number().int().min(0).max(65534),
      ordered: z.boolean().optional(),
      maxPacketLifeTime: z.number().int().min(0).optional(),
      maxRetransmits: z.number().int().min(0).optional(),
    }),
    label: z.string().max(128).default(''),
    protocol: z.string().max(128).default(''),
  }),
  'data.subscribe': z.strictObject({ dataProducerId: id }),
  /** The next page of what `login` listed only in part (its `room.cursors`); opaque cursors. */
  'room.streams': z.strictObject({ cursor: z.string().regex(/^\d{1,7}$/) }),
  'room.participants': z.strictObject({ cursor: z.string().regex(/^\d{1,7}$/) }),
} as const;

export type Method = keyof typeof methodParams;
export const METHODS = Object.keys(methodParams) as Method[];
export type Params<M extends Method> = z.infer<(typeof methodParams)[M]>;

/** The envelope; params are checked against the method's schema separately, to name the method in errors. */
export const RequestSchema = z.strictObject({
  id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]),
  method: z.enum(METHODS as [Method, ...Method[]]),
  params: z.unknown().optional(),
});
/** The id of a request that may be malformed otherwise, so its error answer can name it (null if none). */
export function requestIdOf(body: unknown): string | number | null {
  const id = body && typeof body === 'object' && 'id' in body ? (body as { id: unknown }).id : null;
  return (typeof id === 'string' && id.length <= 64) || (typeof id === 'number' && Number.isInteger(id))
    ? id
    : null;
}

export type SignalingRequest = { id: string | number; method: Method; params: unknown };

export interface SignalingResponse {
  id: string | number | null;
  ok: boolean;
  data?: unknown;
  /** `details`: with a limit (1303), which one, and for `subscriptionsPerStream` the existing subscription. */
  error?: { code: number; message: string; details?: Record<string, unknown> };
}

export type ServerEvent =
  | {
      event: 'participant';
      data: { action: 'join' | 'leave'; participant: { id: string; user: string; role: string } };
    }
  | { event: 'stream'; data: { status: 'add' | 'update' | 'remove'; stream: StreamAnnouncement } }
  | { event: 'text'; data: { from: string; to: 'me' | 'all'; message: string } }
  | { event: 'activeSpeaker'; data: { participantId: string; producerId: string } }
  | {
      event: 'progress';
      data: { status: 'consumerClosed' | 'producerPaused' | 'producerResumed'; id: string };
    }
  /** `rejoin`: the session can continue by logging in again (the SDK does it by itself). */
  | { event: 'drop'; data: { reason: string; rejoin?: boolean } }
  /** Sent by the signaling function before each login is forwarded (and on `session.refresh`). */
  | { event: 'session'; data: SessionInfo };

/**
 * How this session survives its WebSocket: `ticket` (single use) reconnects to the same
 * participant within `graceMs` of losing the socket (`?resume=<ticket>`); the client asks for a
 * fresh one every `refreshMs`, and reconnects by itself before `maxConnectionMs` (the gateway's
 * maximum connection age) when one is set.
 */
export interface SessionInfo {
  ticket: string;
  graceMs: number;
  refreshMs: number;
  maxConnectionMs?: number;
}

/** An ICE server for the client's transports (TURN with short-lived credentials). */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * A mixed stream's layout as its mixer announces it (OWT's `info.layout`): which stream each
 * region shows (none: an empty region). Bounded like a view's regions (256).
 */
export const MixLayoutSchema = z
  .array(z.strictObject({ stream: id.optional(), region: LayoutRegionSchema }))
  .max(256);
export type MixLayout = z.infer<typeof MixLayoutSchema>;

/**
 * What subscribers learn about a published track (subscriptions are per track, by `id`).
 * `publication`: the OWT stream it belongs to (its tracks share it; absent on data channels,
 * and from servers before publications: then the track is a publication of its own).
 * `type`: OWT's stream type, `mixed` for a mixer's output (absent: `forward`).
 */
export interface StreamAnnouncement {
  id: string;
  owner: string;
  kind: 'audio' | 'video' | 'data';
  source: string;
  paused: boolean;
  label?: string;
  publication?: string;
  type?: 'forward' | 'mixed';
  /**
   * A mixer's tracks only (`type: 'mixed'`, `label`: its view's label, `publication`:
   * `mixedStreamId(label)`): the layout now (MixLayoutSchema) and the input voice activity
   * picked (a stream id). The mixer updates them (Room emits `streamupdated`); the stream record
   * (`info.layout`, `info.activeInput`) follows.
   */
  layout?: MixLayout;
  activeInput?: string;
}

/** The publication (OWT stream) a track belongs to. */
export const publicationOf = (s: Pick<StreamAnnouncement, 'id' | 'publication'>): string =>
  s.publication ?? s.id;

export type ServerMessage = SignalingResponse | ServerEvent;

/** API Gateway's WebSocket frame limit (128 KiB); larger messages are refused. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * Every server → client message fits MAX_MESSAGE_BYTES by construction, whatever the room size
 * (API Gateway refuses a larger post, and the client would wait for an answer that never comes):
 *
 * - `login`: a fixed part (the participant, the router's RTP capabilities from the server's
 *   codec table, two transports: ≈ 9 KiB measured, empty room) plus at most LOGIN_BUDGET bytes
 *   of participants, stream announcements and paused consumers (≈ 1.1 KiB each, at most
 *   LOGIN_BUDGET.maxConsumers, the size of transport.connect's `resume` list). What does not fit
 *   comes with `room.participants` / `room.streams` pages and `subscribe`. Worst case ≈ 81 KiB
 *   (75 KB measured with 1,000 streams).
 * - `room.streams` / `room.participants`: at most PAGE_BYTES of items (an announcement is
 *   ≈ 220 bytes: its ids and its publication's ≤ 64, label ≤ 128 characters; a participant
 *   ≈ 100: user ≤ 128).
 * - `subscribe`: one consumer; `data.subscribe`, `transport.restartIce`: one object each.
 * - `text`: its message is at most 2 KiB (the request schema), and so is the event.
 * - events carry one announcement, participant or id: under 1 KiB.
 * - errors: a code and a message naming the offending fields of a request itself ≤ 128 KiB.
 *
 * The node still checks: an answer the gateway refuses becomes an error answer
 * ('answer too large'), never silence.
 */
export const LOGIN_BUDGET = {
  participants: 8 * 1024,
  streams: 16 * 1024,
  consumers: 48 * 1024,
  maxConsumers: 64,
} as const;
export const PAGE_BYTES = 64 * 1024;

/** A `login` answer's room: what fitted, and where to go on when something did not. */
export interface LoginRoom {
  id: string;
  participants: { id: string; user: string; role: string }[];
  streams: StreamAnnouncement[];
  /** Present when a list continues: pass it to `room.participants` / `room.streams`. */
  cursors?: { participants?: string; streams?: string };
}

/** A `room.streams` / `room.participants` page; no `cursor` on the last one. */
export type StreamsPage = { streams: StreamAnnouncement[]; cursor?: string };
export type ParticipantsPage = {
  participants: { id: string; user: string; role: string }[];
  cursor?: string;
};
