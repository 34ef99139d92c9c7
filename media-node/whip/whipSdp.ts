import type { types } from 'mediasoup';
import * as sdpCommonUtils from 'mediasoup-client/handlers/sdp/commonUtils';
import { RemoteSdp } from 'mediasoup-client/handlers/sdp/RemoteSdp';
import * as sdpUnifiedPlanUtils from 'mediasoup-client/handlers/sdp/unifiedPlanUtils';
import * as ortc from 'mediasoup-client/ortc';
import type { RtpCapabilities as ClientRtpCapabilities } from 'mediasoup-client/types';
import * as sdpTransform from 'sdp-transform';
import { ValidationError } from '../../shared/errors.ts';

/** A WHIP offer's media: one audio and one video section at most, as a broadcaster sends. */
export interface WhipTrack {
  kind: 'audio' | 'video';
  mid: string;
  /** What to produce with: the client's payload types, its SSRCs, its CNAME. */
  rtpParameters: types.RtpParameters;
  /** What the answer tells the client (the router's side of the same codecs). */
  answerRtpParameters: types.RtpParameters;
  offerMediaObject: sdpTransform.MediaDescription;
}

export interface WhipOffer {
  dtlsParameters: types.DtlsParameters;
  tracks: WhipTrack[];
}

const invalid = (message: string) =>
  new ValidationError(`invalid WHIP offer: ${message}`, [{ path: 'sdp', message }]);

/**
 * Reads a WHIP offer (RFC 9725) against the router's capabilities, as mediasoup-client reads its
 * own browser's offer for a send transport (the same ortc and SDP helpers, used server side): the
 * DTLS fingerprint, and per audio/video section the codec the client prefers among the router's,
 * its RTX, header extensions both know, and the client's SSRCs. Refused: no media, more than one
 * section of a kind, a section that does not send, no common codec, simulcast (not yet).
 */
export function readWhipOffer(sdp: string, routerCapabilities: types.RtpCapabilities): WhipOffer {
  let sdpObject: sdpTransform.SessionDescription;
  try {
    sdpObject = sdpTransform.parse(sdp);
  } catch {
    throw invalid('not SDP');
  }
  const media = (sdpObject.media ?? []).filter((m) => m.type === 'audio' || m.type === 'video');
  if (media.length === 0) throw invalid('no audio or video section');
  if ((sdpObject.media ?? []).length > 2) throw invalid('at most one audio and one video section');
  for (const kind of ['audio', 'video'])
    if (media.filter((m) => m.type === kind).length > 1) throw invalid(`more than one ${kind} section`);
  let dtlsParameters: types.DtlsParameters;
  let localCaps: ClientRtpCapabilities;
  try {
    dtlsParameters = sdpCommonUtils.extractDtlsParameters({ sdpObject }) as types.DtlsParameters;
    localCaps = sdpCommonUtils.extractRtpCapabilities({ sdpObject });
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : 'unreadable');
  }
  // The client answers DTLS as the client (its offer is actpass; our answer says passive).
  dtlsParameters.role = 'client';
  const extended = ortc.getExtendedRtpCapabilities(
    localCaps,
    routerCapabilities as unknown as ClientRtpCapabilities,
    true,
  );
  const tracks = media.map((offerMediaObject): WhipTrack => {
    const kind = offerMediaObject.type as 'audio' | 'video';
    const direction = offerMediaObject.direction ?? 'sendrecv';
    if (direction !== 'sendonly' && direction !== 'sendrecv')
      throw invalid(`the ${kind} section does not send`);
    if (offerMediaObject.mid === undefined) throw invalid(`the ${kind} section has no mid`);
    if (offerMediaObject.simulcast || offerMediaObject.rids) throw invalid('simulcast is not supported yet');
    const rtpParameters = ortc.getSendingRtpParameters(kind, extended);
    const answerRtpParameters = ortc.getSendingRemoteRtpParameters(kind, extended);
    if (rtpParameters.codecs.length === 0) throw invalid(`no ${kind} codec in common with the room`);
    rtpParameters.codecs = ortc.reduceCodecs(rtpParameters.codecs);
    answerRtpParameters.codecs = ortc.reduceCodecs(answerRtpParameters.codecs);
    rtpParameters.mid = String(offerMediaObject.mid);
    rtpParameters.rtcp = { ...rtpParameters.rtcp, cname: sdpCommonUtils.getCname({ offerMediaObject }) };
    try {
      rtpParameters.encodings = sdpUnifiedPlanUtils.getRtpEncodings({
        offerMediaObject,
        codecs: rtpParameters.codecs,
      });
    } catch (error) {
      throw invalid(error instanceof Error ? error.message : `no SSRC in the ${kind} section`);
    }
    return {
      kind,
      mid: String(offerMediaObject.mid),
      rtpParameters: rtpParameters as unknown as types.RtpParameters,
      answerRtpParameters: answerRtpParameters as unknown as types.RtpParameters,
      offerMediaObject,
    };
  });
  return { dtlsParameters, tracks };
}

/** The SDP answer: the transport's ICE and DTLS (passive), and each section answered recvonly. */
export function whipAnswer(transport: types.WebRtcTransport, offer: WhipOffer): string {
  const remoteSdp = new RemoteSdp({
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates as never,
    dtlsParameters: transport.dtlsParameters as never,
  });
  remoteSdp.updateDtlsRole('server');
  for (const track of offer.tracks)
    remoteSdp.send({
      offerMediaObject: track.offerMediaObject,
      offerRtpParameters: track.rtpParameters as never,
      answerRtpParameters: track.answerRtpParameters as never,
    });
  return remoteSdp.getSdp();
}
