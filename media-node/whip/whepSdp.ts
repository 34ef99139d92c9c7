import type { types } from 'mediasoup';
import * as sdpCommonUtils from 'mediasoup-client/handlers/sdp/commonUtils';
import { RemoteSdp } from 'mediasoup-client/handlers/sdp/RemoteSdp';
import * as sdpTransform from 'sdp-transform';
import { ValidationError } from '../../shared/errors.ts';

/** A WHEP offer (a player's): what it receives, and with which of its payload types. */
export interface WhepOffer {
  dtlsParameters: types.DtlsParameters;
  /** Its audio/video sections, in order: each answered with one track of the stream, or rejected. */
  sections: { kind: 'audio' | 'video'; mid: string }[];
  /** What the player decodes, with its own payload types and header extension ids (no RTX). */
  capabilities: types.RtpCapabilities;
}

const invalid = (message: string) =>
  new ValidationError(`invalid WHEP offer: ${message}`, [{ path: 'sdp', message }]);

/** Reads a player's offer: recvonly (or sendrecv) audio and video sections, one of each at most. */
export function readWhepOffer(sdp: string): WhepOffer {
  let sdpObject: sdpTransform.SessionDescription;
  try {
    sdpObject = sdpTransform.parse(sdp);
  } catch {
    throw invalid('not SDP');
  }
  const media = sdpObject.media ?? [];
  const av = media.filter((m) => m.type === 'audio' || m.type === 'video');
  if (av.length === 0) throw invalid('no audio or video section');
  if (media.length > 2) throw invalid('at most one audio and one video section');
  const sections = av.map((m) => {
    const kind = m.type as 'audio' | 'video';
    if (av.filter((o) => o.type === kind).length > 1) throw invalid(`more than one ${kind} section`);
    const direction = m.direction ?? 'sendrecv';
    if (direction !== 'recvonly' && direction !== 'sendrecv')
      throw invalid(`the ${kind} section does not receive`);
    if (m.mid === undefined) throw invalid(`the ${kind} section has no mid`);
    return { kind, mid: String(m.mid) };
  });
  try {
    const dtlsParameters = sdpCommonUtils.extractDtlsParameters({ sdpObject }) as types.DtlsParameters;
    dtlsParameters.role = 'client';
    const caps = sdpCommonUtils.extractRtpCapabilities({ sdpObject }) as unknown as types.RtpCapabilities;
    // RTX would need the session router's own RTX payload types, which the offer does not know.
    const codecs = (caps.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType));
    return { dtlsParameters, sections, capabilities: { ...caps, codecs } };
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : 'unreadable');
  }
}

/**
 * The router codecs of a player's session: each producer's codec, with the player's payload type
 * and parameters for it, so that what the session router sends carries the numbers the player's
 * offer expects (a mediasoup consumer sends with its router's payload types).
 */
export function sessionCodecs(
  producers: readonly types.Producer[],
  capabilities: types.RtpCapabilities,
): types.RtpCodecCapability[] {
  return producers.map((producer) => {
    const codec = producer.rtpParameters.codecs[0]!;
    const match = (capabilities.codecs ?? []).find(
      (c) =>
        c.mimeType.toLowerCase() === codec.mimeType.toLowerCase() &&
        c.clockRate === codec.clockRate &&
        (producer.kind !== 'audio' || (c.channels ?? 1) === (codec.channels ?? 1)) &&
        sameH264Mode(c.parameters, codec.parameters),
    );
    if (!match)
      throw invalid(`the player does not decode ${codec.mimeType} (transcoding is not offered yet)`);
    return {
      kind: producer.kind,
      mimeType: codec.mimeType,
      clockRate: codec.clockRate,
      ...(codec.channels ? { channels: codec.channels } : {}),
      parameters: { ...codec.parameters },
      preferredPayloadType: match.preferredPayloadType!,
      rtcpFeedback: match.rtcpFeedback ?? [],
    };
  });
}

/** H.264 needs the same packetization mode on both sides; other codecs have nothing to compare. */
function sameH264Mode(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): boolean {
  if (!('packetization-mode' in a) && !('packetization-mode' in b)) return true;
  return Number(a['packetization-mode'] ?? 0) === Number(b['packetization-mode'] ?? 0);
}

/**
 * The answer: the session transport's ICE and DTLS (passive), each offered section answered
 * sendonly with its consumer's parameters and SSRC (mediasoup-client's remote-offer section,
 * which is what a send-only answer section is too), sections the stream cannot fill rejected.
 */
export function whepAnswer(
  transport: types.WebRtcTransport,
  offer: WhepOffer,
  consumers: ReadonlyMap<string, types.Consumer>,
  streamId: string,
): string {
  const remoteSdp = new RemoteSdp({
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates as never,
    dtlsParameters: transport.dtlsParameters as never,
  });
  for (const { kind, mid } of offer.sections) {
    const consumer = consumers.get(mid);
    if (consumer)
      remoteSdp.receive({
        mid,
        kind,
        offerRtpParameters: consumer.rtpParameters as never,
        streamId,
        trackId: consumer.id,
      });
  }
  const answer = sdpTransform.parse(remoteSdp.getSdp());
  for (const m of answer.media) {
    // An answer's own DTLS role: the player offered actpass and connects as the client.
    m.setup = 'passive';
    if (m.direction === 'sendonly' || m.direction === 'sendrecv') m.direction = 'sendonly';
  }
  // A section the stream has nothing for is rejected in place (port 0), as offer/answer requires.
  answer.media = offer.sections.map(({ kind, mid }) => {
    const section = answer.media.find((m) => String(m.mid) === mid);
    if (section) return section;
    return {
      type: kind,
      port: 0,
      protocol: 'UDP/TLS/RTP/SAVPF',
      payloads: kind === 'audio' ? '0' : '96',
      mid,
      direction: 'inactive',
      rtp: [],
      fmtp: [],
    } as sdpTransform.MediaDescription;
  });
  return sdpTransform.write(answer);
}
