import type { types } from 'mediasoup';

/**
 * The codecs every room's router offers. Browsers pick from these; PlainTransport peers
 * (SIP, ffmpeg) use G.711/G.722. H.265 is forwarded for clients that offer it (Chromium on
 * Debian does not). Payload types are left to mediasoup.
 */
export const routerMediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000, channels: 1 },
  { kind: 'audio', mimeType: 'audio/PCMA', clockRate: 8000, channels: 1 },
  { kind: 'audio', mimeType: 'audio/G722', clockRate: 8000, channels: 1 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '4d001f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/H265', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/AV1', clockRate: 90000 },
];
