// A WHIP client as a broadcaster's page runs one (RFC 9725) and a WHEP player as a viewer's page
// runs one: bare RTCPeerConnections, no SDK; driven through window.whip and window.whep.

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
    whep: {
      /** Offers to receive audio and video from a WHEP endpoint; answers as whip.publish does. */
      play(
        endpoint: string,
        token: string,
      ): Promise<{ status: number; location: string | null; body: string }>;
      /** What plays: video frames decoded, the picture's size, and audio energy received. */
      state(): Promise<{ framesDecoded: number; width: number; height: number; audioEnergy: number }>;
      stop(): Promise<number>;
    };
  }
}

/** Non-trickle: the offer goes once every candidate is gathered. */
async function offerOnce(pc: RTCPeerConnection, endpoint: string, token: string) {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
    body: pc.localDescription!.sdp,
  });
  const body = await response.text();
  const location = response.headers.get('location');
  let session: string | undefined;
  if (response.status === 201) {
    session = new URL(location!, endpoint).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
  }
  return { result: { status: response.status, location, body }, session };
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
    const { result, session: url } = await offerOnce(pc, endpoint, token);
    session = url;
    return result;
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

let player: RTCPeerConnection | undefined;
let playing: string | undefined;
window.whep = {
  async play(endpoint, token) {
    player = new RTCPeerConnection();
    player.addTransceiver('audio', { direction: 'recvonly' });
    player.addTransceiver('video', { direction: 'recvonly' });
    // One element per track, playing (audio is only decoded, and its energy counted, when played out).
    player.ontrack = (e) => {
      const element = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
      element.srcObject = new MediaStream([e.track]);
      element.autoplay = true;
      document.body.append(element);
      void element.play().catch(() => {});
    };
    const { result, session: url } = await offerOnce(player, endpoint, token);
    playing = url;
    return result;
  },
  async state() {
    const out = { framesDecoded: 0, width: 0, height: 0, audioEnergy: 0 };
    for (const s of (await player?.getStats())?.values() ?? []) {
      if (s.type !== 'inbound-rtp') continue;
      if (s.kind === 'video')
        Object.assign(out, {
          framesDecoded: s.framesDecoded ?? 0,
          width: s.frameWidth ?? 0,
          height: s.frameHeight ?? 0,
        });
      if (s.kind === 'audio') out.audioEnergy = s.totalAudioEnergy ?? 0;
    }
    return out;
  },
  async stop() {
    const response = await fetch(playing!, { method: 'DELETE' });
    player?.close();
    return response.status;
  },
};
