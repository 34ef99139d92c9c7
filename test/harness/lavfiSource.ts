import type { FfmpegProcess as FfmpegProcessType } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import { FfmpegProcess } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import type { Room } from '../../media-node/sfu/Room.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';

export interface LavfiSourceOptions {
  owner: string;
  kind: 'audio' | 'video';
  /** The lavfi graph, e.g. `testsrc2=size=320x240:rate=15` or `sine=f=440:sample_rate=48000`. */
  lavfi: string;
  /** Video: VP8 (default) or H.264 (constrained baseline, as browsers send it). */
  codec?: 'vp8' | 'h264';
  /** Audio filter (e.g. `volume=2`). */
  filter?: string;
  publication?: string;
  /** Video encoder options after the defaults (a later `-g` wins; a PlainTransport sender answers no PLI). */
  videoArgs?: string[];
  /** Another node's stream piped here (default: a participant's of this node). */
  piped?: { fromNode: string; announcement?: Partial<StreamAnnouncement> };
}

const CODECS = {
  vp8: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
  h264: {
    mimeType: 'video/H264',
    payloadType: 102,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
  },
  opus: { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 },
} as const;

/**
 * A participant's publication fed by an ffmpeg lavfi source (encoded live, sent as RTP) over a
 * PlainTransport, added to the room as a stream. The sender is pushed onto `processes` (the
 * caller closes them).
 */
export async function publishLavfi(room: Room, processes: FfmpegProcessType[], o: LavfiSourceOptions) {
  const publication = o.publication ?? `pub-${o.owner}-${o.kind}`;
  const transport = await room.router.createPlainTransport({
    listenIp: '127.0.0.1',
    rtcpMux: false,
    comedia: true,
  });
  const ssrc = 20_000_000 + Math.floor(Math.random() * 1_000_000);
  const codec = o.kind === 'audio' ? CODECS.opus : CODECS[o.codec ?? 'vp8'];
  const producer = await transport.produce({
    kind: o.kind,
    rtpParameters: { codecs: [codec], encodings: [{ ssrc }] },
  });
  const video =
    o.codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline']
      : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16'];
  const encode =
    o.kind === 'video'
      ? ['-an', ...video, '-pix_fmt', 'yuv420p', '-b:v', '300k', '-g', '15', ...(o.videoArgs ?? [])]
      : ['-vn', ...(o.filter ? ['-af', o.filter] : []), '-c:a', 'libopus', '-b:a', '32k', '-ac', '2'];
  const sender = new FfmpegProcess({
    args: [
      ...['-re', '-f', 'lavfi', '-i', o.lavfi, ...encode],
      ...['-payload_type', String(codec.payloadType), '-ssrc', String(ssrc), '-f', 'rtp'],
      `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}&pkt_size=1200`,
    ],
  });
  processes.push(sender);
  await room.addStream(
    producer,
    {
      id: producer.id,
      owner: o.owner,
      kind: o.kind,
      source: o.kind === 'video' ? 'camera' : 'mic',
      paused: false,
      publication,
      ...o.piped?.announcement,
    },
    o.piped ? { kind: 'pipe', fromNode: o.piped.fromNode } : { kind: 'participant', participantId: o.owner },
  );
  return { producer, publication };
}
