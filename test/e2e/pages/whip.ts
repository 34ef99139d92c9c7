// A WHIP client as a broadcaster's page runs one (RFC 9725): a bare RTCPeerConnection, no SDK,
// the fake camera and microphone sent to a WHIP endpoint; driven through window.whip.

export {};

declare global {
  interface Window {
    whip: {
      /** Offers the camera and microphone; answers the session URL (Location) and the HTTP status. */
      publish(
        endpoint: string,
        token: string,
      ): Promise<{ status: number; location: string | null; body: string }>;
      /** The connection's state and what it has sent (bytes of video). */
      state(): Promise<{ connection: string; videoBytesSent: number }>;
      /** DELETE of the session URL; the HTTP status. */
      stop(): Promise<number>;
    };
  }
}

let pc: RTCPeerConnection | undefined;
let session: string | undefined;

window.whip = {
  async publish(endpoint, token) {
    const media = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 480 },
    });
    pc = new RTCPeerConnection();
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    // No trickle: the offer goes with every candidate gathered.
    await new Promise<void>((resolve) => {
      if (pc!.iceGatheringState === 'complete') return resolve();
      pc!.addEventListener('icegatheringstatechange', () => {
        if (pc!.iceGatheringState === 'complete') resolve();
      });
    });
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
      body: pc.localDescription!.sdp,
    });
    const body = await response.text();
    const location = response.headers.get('location');
    if (response.status === 201) {
      session = new URL(location!, endpoint).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
    }
    return { status: response.status, location, body };
  },
  async state() {
    let videoBytesSent = 0;
    for (const s of (await pc?.getStats())?.values() ?? [])
      if (s.type === 'outbound-rtp' && s.kind === 'video') videoBytesSent += s.bytesSent;
    return { connection: pc?.connectionState ?? 'none', videoBytesSent };
  },
  async stop() {
    const response = await fetch(session!, { method: 'DELETE' });
    pc?.close();
    return response.status;
  },
};
