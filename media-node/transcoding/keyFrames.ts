import { rtpPayloadOffset } from '../pipelines/RtpTimeline.ts';

export type KeyFrameCodec = 'h264' | 'vp8' | 'vp9';

/**
 * Whether an RTP packet is the first packet of a key frame: where a receiver can start decoding,
 * so where a subscription may switch from one encoder's stream to another's.
 */
export function startsKeyFrame(packet: Buffer, codec: KeyFrameCodec): boolean {
  const at = rtpPayloadOffset(packet);
  if (at === undefined) return false;
  const payload = packet.subarray(at);
  switch (codec) {
    case 'h264':
      return h264StartsKeyFrame(payload);
    case 'vp8':
      return vp8StartsKeyFrame(payload);
    case 'vp9':
      return vp9StartsKeyFrame(payload);
  }
}

/** NAL unit types that open a key frame: an SPS (x264 sends it before each IDR) or an IDR slice. */
const opensKeyFrame = (nalType: number) => nalType === 7 || nalType === 5;

/** RFC 6184: a single NAL unit, a STAP-A holding one, or the first fragment (FU-A) of one. */
function h264StartsKeyFrame(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type >= 1 && type <= 23) return opensKeyFrame(type);
  if (type === 24) {
    for (let at = 1; at + 2 < payload.length; ) {
      const size = payload.readUInt16BE(at);
      if (size === 0 || at + 2 + size > payload.length) return false;
      if (opensKeyFrame(payload[at + 2]! & 0x1f)) return true;
      at += 2 + size;
    }
    return false;
  }
  if (type === 28)
    return payload.length >= 2 && (payload[1]! & 0x80) !== 0 && opensKeyFrame(payload[1]! & 0x1f);
  return false;
}

/** RFC 7741: the start of partition 0 (S = 1, PID = 0) whose frame header says key frame (P = 0). */
function vp8StartsKeyFrame(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const first = payload[0]!;
  if (!(first & 0x10) || (first & 0x07) !== 0) return false;
  let at = 1;
  if (first & 0x80) {
    if (payload.length < 2) return false;
    const x = payload[1]!;
    at = 2;
    if (x & 0x80) at += payload.length > at && payload[at]! & 0x80 ? 2 : 1; // picture id, 7 or 15 bits
    if (x & 0x40) at += 1; // TL0PICIDX
    if (x & 0x30) at += 1; // TID / KEYIDX
  }
  return payload.length > at && (payload[at]! & 0x01) === 0;
}

/**
 * The VP9 payload descriptor (RFC 9628) opening a frame (B = 1), not inter-picture predicted
 * (P = 0), whose uncompressed header says key frame: ffmpeg's packetizer never sets P, so the
 * header itself is read.
 */
function vp9StartsKeyFrame(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const d = payload[0]!;
  const [i, p, l, f, b, v] = [0x80, 0x40, 0x20, 0x10, 0x08, 0x02].map((bit) => (d & bit) !== 0);
  if (!b || p) return false;
  let at = 1;
  if (i) at += payload.length > at && payload[at]! & 0x80 ? 2 : 1;
  if (l) at += f ? 1 : 2;
  if (v) {
    if (payload.length <= at) return false;
    const ss = payload[at]!;
    at += 1;
    const spatialLayers = (ss >> 5) + 1;
    if (ss & 0x10) at += 4 * spatialLayers; // Y: sizes
    if (ss & 0x08) {
      // G: picture group description
      if (payload.length <= at) return false;
      const pictures = payload[at]!;
      at += 1;
      for (let n = 0; n < pictures; n++) {
        if (payload.length <= at) return false;
        at += 1 + ((payload[at]! >> 2) & 0x03);
      }
    }
  }
  if (payload.length <= at) return false;
  const h = payload[at]!;
  if ((h & 0xc0) !== 0x80) return false; // frame_marker
  const profile = ((h >> 5) & 1) | (((h >> 4) & 1) << 1);
  // Profile 3 has a reserved zero bit before show_existing_frame.
  const shift = profile === 3 ? 1 : 0;
  const showExisting = (h >> (3 - shift)) & 1;
  const frameType = (h >> (2 - shift)) & 1;
  return showExisting === 0 && frameType === 0;
}
