// One DTLS certificate for all of a client's peer connections, made before any of them: its
// fingerprint can then go with the login, and the node connects the transports it makes at
// once instead of waiting for a `transport.connect` round trip (a queue's, in cluster mode)
// before the browser may start ICE.
import type { types } from 'mediasoup-client';

export interface DtlsIdentity {
  certificate: RTCCertificate;
  /** What mediasoup-client will report for a transport using the certificate (we are DTLS client). */
  parameters: types.DtlsParameters;
}

/** The identity, or undefined where the platform cannot make one (the classic connect is used). */
export async function createDtlsIdentity(): Promise<DtlsIdentity | undefined> {
  if (typeof globalThis.RTCPeerConnection?.generateCertificate !== 'function') return undefined;
  try {
    const certificate = await RTCPeerConnection.generateCertificate({
      name: 'ECDSA',
      namedCurve: 'P-256',
    } as EcKeyGenParams);
    // mediasoup compares fingerprints as upper-case hex, as they appear in SDP.
    const fingerprints = certificate
      .getFingerprints()
      .filter((f) => f.algorithm && f.value)
      .map((f) => ({ algorithm: f.algorithm as types.FingerprintAlgorithm, value: f.value!.toUpperCase() }));
    if (fingerprints.length === 0) return undefined;
    return { certificate, parameters: { role: 'client', fingerprints } };
  } catch {
    return undefined;
  }
}

/** Whether a transport's DTLS parameters are the identity's (the browser used the certificate). */
export function usesIdentity(identity: DtlsIdentity, actual: types.DtlsParameters): boolean {
  if (actual.role !== identity.parameters.role) return false;
  return actual.fingerprints.some((f) =>
    identity.parameters.fingerprints.some(
      (mine) => mine.algorithm === f.algorithm && mine.value === f.value.toUpperCase(),
    ),
  );
}
