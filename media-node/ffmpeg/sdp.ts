import type { types } from 'mediasoup';

export interface RtpReceiverSdpOptions {
  /** The consumer's RTP parameters: what mediasoup will send. */
  rtpParameters: types.RtpParameters;
  kind: types.MediaKind;
  /** Where ffmpeg listens; RTCP goes to port + 1. */
  address: string;
  port: number;
  name?: string;
}

/**
 * An SDP file that makes ffmpeg receive what a mediasoup consumer on a PlainTransport
 * sends (one m-line, the consumer's first codec, fmtp carried over).
 */
export function sdpForRtpReceiver(o: RtpReceiverSdpOptions): string {
  const codec = o.rtpParameters.codecs[0];
  if (!codec) throw new Error('consumer has no codec');
  const encodingName = codec.mimeType.split('/')[1];
  const channels = o.kind === 'audio' && codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  const family = o.address.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=- 0 0 IN ${family} ${o.address}`,
    `s=${o.name ?? 'tessera'}`,
    `c=IN ${family} ${o.address}`,
    't=0 0',
    `m=${o.kind} ${o.port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${encodingName}/${codec.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\n');
}
