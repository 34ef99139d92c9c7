import { z } from 'zod';
import { PermissionSchema } from './http/liveState.ts';
import { LayoutRegionSchema } from './http/room.ts';
import { MAX_ROOM_KEY_LENGTH } from './http/roomKey.ts';
import { ViewsSchema } from './mcu.ts';
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
/** Who a command acts for: the participant the signaling function admitted from a join token. */
const ParticipantIdentitySchema = z.strictObject({
  id: z.string().min(1).max(64),
  user: z.string().min(1).max(128),
  role: z.string().min(1).max(64),
  permission: PermissionSchema,
});

/** A WHIP offer's size at most (a browser's is 4–8 KiB). */
export const MAX_WHIP_SDP_BYTES = 32 * 1024;

const fromPeer = { fromNode: nodeId, fromInstance: z.uuid() };

const base = {
  id: z.uuid(),
  /** The room's key, `<serviceId>/<roomId>` (http/roomKey.ts). */
  roomId: z.string().min(1).max(MAX_ROOM_KEY_LENGTH),
  issuedAt: z.iso.datetime(),
};

/** A region index of a mixed stream's layout: OWT's `/info/layout/${regionIndex}/stream`. */
const regionStreamPath = z
  .templateLiteral(['/info/layout/', z.number().int(), '/stream'])
  .refine((p) => /^\/info\/layout\/\d{1,3}\/stream$/.test(p), 'a region index 0-999');

export const StreamPatchOpSchema = z.union([
  z.discriminatedUnion('path', [
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
      /** OWT: `{stream, region}`, or `{region}` for an empty region (only at the end). */
      value: z
        .array(z.strictObject({ stream: z.string().min(1).max(64).optional(), region: LayoutRegionSchema }))
        .max(256),
    }),
  ]),
  z.strictObject({ op: z.literal('replace'), path: regionStreamPath, value: z.string().min(1).max(64) }),
]);
export type StreamPatchOp = z.infer<typeof StreamPatchOpSchema>;

/** A pipeline's id: chosen by the caller, unique on the node. */
const pipelineId = z.string().regex(/^[\w-]{1,64}$/);

/** The pipeline kinds a node may know (a node refuses a kind it has not registered). */
export const PipelineKindSchema = z.enum(['transcode', 'record', 'stream-out', 'stream-in', 'rtmp-in']);

/**
 * Parameters of a `record`: its inputs (at most one audio and one video track, as OWT's
 * `media.audio.from` and `media.video.from`) copied without re-encoding into a file. `auto` is
 * OWT's rule (mp4 for H.264/H.265 with AAC, else mkv): WebRTC audio is opus, so mkv in practice.
 */
export const RecordParamsSchema = z.strictObject({
  container: z.enum(['auto', 'mkv', 'mp4', 'webm']).default('auto'),
  /**
   * The kind taken from each input, in order, when the inputs name publications (OWT streams,
   * whose tracks the node knows) rather than tracks: REST's `media.video.from` first, then
   * `media.audio.from` (which may be the same stream).
   */
  kinds: z.enum(['audio', 'video', 'video+audio']).optional(),
  /**
   * Re-encoded video (OWT's recording `media.video.format` and `parameters`): its codec, and the
   * size (exact, letterboxed), frame rate, bit rate and key-frame interval; unset: the source's
   * size at 30 fps, 2 Mbit/s, a key frame every 2 s. Without `videoCodec` the video is copied.
   */
  videoCodec: z.enum(['h264', 'vp8', 'vp9']).optional(),
  width: z.number().int().min(16).max(1920).multipleOf(2).optional(),
  height: z.number().int().min(16).max(1080).multipleOf(2).optional(),
  framerate: z.number().int().min(1).max(60).optional(),
  videoKbps: z.number().int().min(32).max(8000).optional(),
  keyFrameSeconds: z.number().int().min(1).max(100).optional(),
  /** Re-encoded audio (OWT's `media.audio.format`); without it the audio is copied. */
  audioCodec: z.enum(['opus', 'aac', 'pcmu', 'pcma', 'g722']).optional(),
});
export type RecordParams = z.infer<typeof RecordParamsSchema>;

/** A pipeline's params as commands carry them: checked by its kind's own schema on the node. */
const pipelineParams = z
  .record(z.string().max(32), z.union([z.string().max(64), z.number(), z.boolean()]))
  .refine((p) => Object.keys(p).length <= 16, 'at most 16 params');

/**
 * Parameters of a `stream-out`: a room's audio and/or video (as a `record`'s inputs) encoded to
 * H.264 + AAC, as OWT's streaming-outs, and pushed to an RTMP server, an RTSP server
 * (ANNOUNCE/RECORD), or an HTTP origin as HLS or DASH segments (PUT or POST). The URL travels in the command's `output` (it may carry a stream key:
 * never logged).
 */
/** A streaming-out's H.264 encoding (OWT's video parameters resolved), at start and in a `pipeline.switch`. */
export const StreamOutEncodingSchema = z.strictObject({
  videoKbps: z.number().int().min(32).max(8000).default(2000),
  /** The picture's exact size (scaled to fit, letterboxed); the source's own when not given. */
  width: z.number().int().min(16).max(1920).multipleOf(2).optional(),
  height: z.number().int().min(16).max(1080).multipleOf(2).optional(),
  framerate: z.number().int().min(1).max(60).default(30),
  /** A key frame at least this often (s): players that join wait at most that. */
  keyFrameSeconds: z.number().int().min(1).max(100).default(2),
});

export const StreamOutParamsSchema = z.strictObject({
  protocol: z.enum(['rtmp', 'rtsp', 'hls', 'dash']),
  kinds: z.enum(['audio', 'video', 'video+audio']),
  ...StreamOutEncodingSchema.shape,
  /** HLS and DASH: segment length (s), segments kept in the playlist, and how they are uploaded. */
  segmentSeconds: z.number().int().min(1).max(10).default(2),
  windowSize: z.number().int().min(2).max(30).default(6),
  method: z.enum(['PUT', 'POST']).default('PUT'),
  url: z.string().min(1).max(2048),
});
export type StreamOutParams = z.infer<typeof StreamOutParamsSchema>;

/**
 * Parameters of a `stream-in`: an RTSP or RTMP source pulled into the room as one publication
 * (`publication`, its OWT stream id) of H.264 video and/or opus audio. The URL travels in the
 * command's `source` (it may carry credentials: never logged).
 */
export const StreamInParamsSchema = z.strictObject({
  /** `hls`: an http(s) playlist, fetched by the node's guarded client (HlsFeed). */
  protocol: z.enum(['rtsp', 'rtmp', 'hls']),
  /** RTSP's transport (RTMP is TCP). */
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  audio: z.boolean().default(true),
  video: z.boolean().default(true),
  publication: z.string().min(1).max(64),
  url: z.string().min(1).max(2048),
});
export type StreamInParams = z.infer<typeof StreamInParamsSchema>;

/**
 * Parameters of an `rtmp-in`: an encoder pushes to the node's RTMP ingest with `streamKey` (the
 * ingest's secret: unguessable, never logged) and becomes the room's publication `publication`.
 */
export const RtmpInParamsSchema = z.strictObject({
  audio: z.boolean().default(true),
  video: z.boolean().default(true),
  publication: z.string().min(1).max(64),
  streamKey: z.string().regex(/^[A-Za-z0-9_-]{24,64}$/, '24–64 URL-safe characters'),
});
export type RtmpInParams = z.infer<typeof RtmpInParamsSchema>;

/**
 * Parameters of a `transcode`: one video stream re-encoded, bounded so that one request cannot
 * take a node's CPU (the defaults cost about 2 % of a core with H.264).
 */
/**
 * A transcode's output. `null` size or frame rate: the source's own (a subscriber asked only for
 * another codec or bit rate). The size is exact: the picture is scaled to fit and padded.
 */
export const TranscodeParamsSchema = z.strictObject({
  codec: z.enum(['h264', 'vp8', 'vp9']).default('h264'),
  width: z.number().int().min(16).max(1920).multipleOf(2).nullable().default(320),
  height: z.number().int().min(16).max(1080).multipleOf(2).nullable().default(240),
  framerate: z.number().int().min(1).max(60).nullable().default(15),
  bitrateKbps: z.number().int().min(32).max(8000).default(300),
  keyFrameIntervalSeconds: z.number().int().min(1).max(100).default(1),
});
export type TranscodeParams = z.infer<typeof TranscodeParamsSchema>;

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
  /**
   * The room's views (OWT's view model, defaults applied), for its host node's mixers: sent when
   * the room is placed and whenever its views change. Idempotent: the latest wins. `mixing: false`
   * goes to the room's other nodes (it spans nodes): they record their publications in the views
   * (`inViews`) and leave the mixing to the host, where their streams are piped.
   */
  z.strictObject({
    ...base,
    type: z.literal('views.configure'),
    views: ViewsSchema,
    mixing: z.boolean().optional(),
  }),
  /** A client's signaling request, forwarded by the signaling function; the node answers the connection. */
  z.strictObject({
    ...base,
    type: z.literal('signal'),
    connectionId: z.string().min(1).max(128),
    participant: ParticipantIdentitySchema,
    request: RequestSchema,
  }),
  /**
   * WHIP (RFC 9725): an encoder's SDP offer, for the participant the function admitted with its
   * join token. The node answers to Replies under `replyTo`: `{ok, sdp}` or `{ok: false, error}`.
   */
  z.strictObject({
    ...base,
    type: z.literal('whip.offer'),
    connectionId: z.string().min(1).max(128),
    participant: ParticipantIdentitySchema,
    sdp: z.string().min(1).max(MAX_WHIP_SDP_BYTES),
    replyTo: z.string().min(1).max(128),
  }),
  /**
   * WHEP: a player's SDP offer for the room's stream `streamId` (a participant's or a mixed
   * view), for the participant the function admitted; answered to Replies as `whip.offer` is.
   */
  z.strictObject({
    ...base,
    type: z.literal('whep.offer'),
    connectionId: z.string().min(1).max(128),
    participant: ParticipantIdentitySchema,
    streamId: z.string().min(1).max(64),
    sdp: z.string().min(1).max(MAX_WHIP_SDP_BYTES),
    replyTo: z.string().min(1).max(128),
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
   * Start a media pipeline in the room (on the node hosting its input). The node registers it and
   * answers nothing; it starts in the background and reports started/failed/ended as events.
   * `params` are checked against the kind's own schema (e.g. TranscodeParamsSchema).
   */
  z.strictObject({
    ...base,
    type: z.literal('pipeline.start'),
    pipelineId,
    kind: PipelineKindSchema,
    /** The room stream it consumes (none for a kind that brings a stream in). */
    input: z.strictObject({ streamId: z.string().min(1).max(64) }).optional(),
    /** More inputs, for a kind that takes them: a recording's audio track beside its video. */
    with: z
      .array(z.strictObject({ streamId: z.string().min(1).max(64) }))
      .max(1)
      .optional(),
    params: pipelineParams.default({}),
    /** Where a kind that pushes sends its output (a streaming-out's URL, stream key and all). */
    output: z.strictObject({ url: z.string().min(1).max(2048) }).optional(),
    /** Where a kind that pulls takes its input from (a streaming-in's URL, credentials and all). */
    source: z.strictObject({ url: z.string().min(1).max(2048) }).optional(),
  }),
  z.strictObject({ ...base, type: z.literal('pipeline.stop'), pipelineId }),
  /**
   * A running pipeline takes other room streams as its inputs, in the order it was started with
   * (a streaming-out's PATCH of `from`: video first, then audio). Refused by kinds that cannot.
   */
  z.strictObject({
    ...base,
    type: z.literal('pipeline.switch'),
    pipelineId,
    inputs: z
      .array(z.strictObject({ streamId: z.string().min(1).max(64) }))
      .min(1)
      .max(2),
    /** Params that change with the switch (a streaming-out's video encoding), checked by the pipeline's kind. */
    params: pipelineParams.optional(),
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

/** The envelope every sender puts around a command: a fresh id (for at-most-once) and the time. */
export function newCommand(input: NodeCommandInput): NodeCommand {
  // Web Crypto's randomUUID: this contract module stays free of Node imports.
  return { ...input, id: globalThis.crypto.randomUUID(), issuedAt: new Date().toISOString() } as NodeCommand;
}
