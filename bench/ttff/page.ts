// Time to first frame, measured in the subscriber's page: from WebSocket open to the first
// decoded remote video frame, with the SDK's milestones in between.
import { TesseraClient } from '../../client/TesseraClient.ts';

declare global {
  interface Window {
    ttffPublish(url: string, token: string, signalingUrl?: string): Promise<void>;
    ttffMeasure(url: string, token: string, signalingUrl?: string): Promise<Record<string, number>>;
  }
}

window.ttffPublish = async (url, token, signalingUrl) => {
  const client = await TesseraClient.join({
    url,
    token,
    autoSubscribe: false,
    ...(signalingUrl ? { signalingUrl } : {}),
  });
  const media = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 640, height: 480 },
  });
  for (const track of media.getTracks())
    await client.publish(track, { codec: track.kind === 'video' ? 'video/VP8' : undefined });
};

window.ttffMeasure = async (url, token, signalingUrl) => {
  performance.clearMarks();
  const client = await TesseraClient.join({
    url,
    token,
    autoSubscribe: false,
    ...(signalingUrl ? { signalingUrl } : {}),
  });
  const video = await new Promise<string>((resolve) => {
    client.on('track', ({ kind, streamId }) => kind === 'video' && resolve(streamId));
  });
  let firstPacket = 0;
  let firstFrame = 0;
  const deadline = performance.now() + 15_000;
  while (!firstFrame && performance.now() < deadline) {
    for (const s of (await client.stats(video))?.values() ?? []) {
      if (s.type !== 'inbound-rtp') continue;
      if (!firstPacket && s.packetsReceived > 0) firstPacket = performance.now();
      if (s.framesDecoded > 0) firstFrame = performance.now();
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const at = (name: string) => performance.getEntriesByName(`tessera:${name}`)[0]?.startTime ?? Number.NaN;
  const t0 = at('ws-open');
  const result = {
    loginRtt: at('login-done') - at('login-sent'),
    clientSetup: at('recv-connect-sent') - at('login-done'),
    connectRtt: at('recv-connect-done') - at('recv-connect-sent'),
    iceDtlsConnected: at('recv-connected') - t0,
    firstPacket: firstPacket ? firstPacket - t0 : Number.NaN,
    firstFrame: firstFrame ? firstFrame - t0 : Number.NaN,
  };
  await client.leave();
  return result;
};
