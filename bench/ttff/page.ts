// Time to first frame, measured in the subscriber's page: from the start of the join (before
// the router capabilities are fetched) to the first decoded remote video frame, with the SDK's
// milestones in between; and the same join against bare mediasoup (bareSfu.ts), the baseline.
import { Device, type types } from 'mediasoup-client';
import { TesseraClient } from '../../client/TesseraClient.ts';

declare global {
  interface Window {
    ttffPublish(url: string, token: string, signalingUrl?: string): Promise<void>;
    ttffMeasure(url: string, token: string, signalingUrl?: string): Promise<Record<string, number>>;
    barePublish(wsUrl: string): Promise<void>;
    bareMeasure(wsUrl: string): Promise<Record<string, number>>;
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
  const joinStart = performance.now();
  // autoSubscribe: the login answer brings the publisher's consumers, as a real join does.
  const client = await TesseraClient.join({
    url,
    token,
    ...(signalingUrl ? { signalingUrl } : {}),
  });
  const video = await new Promise<string>((resolve) => {
    client.on('track', ({ kind, streamId }) => kind === 'video' && resolve(streamId));
  });
  const { firstPacket, firstFrame } = await firstDecoded(
    async () => (await client.stats(video)) ?? new Map(),
  );
  const at = (name: string) => performance.getEntriesByName(`tessera:${name}`)[0]?.startTime ?? Number.NaN;
  const t0 = at('ws-open');
  const result = {
    fromJoin: firstFrame ? firstFrame - joinStart : Number.NaN,
    wsOpenFromJoin: t0 - joinStart,
    loginRtt: at('login-done') - at('login-sent'),
    clientSetup: at('recv-connect-sent') - at('login-done'),
    connectRtt: at('recv-connect-done') - at('recv-connect-sent'),
    deviceLoadedFromJoin: at('device-loaded') - joinStart,
    connectSentFromJoin: at('recv-connect-sent') - joinStart,
    connectedFromJoin: at('recv-connected') - joinStart,
    frameAfterConnected: firstFrame - at('recv-connected'),
    iceDtlsConnected: at('recv-connected') - t0,
    firstPacket: firstPacket ? firstPacket - t0 : Number.NaN,
    firstFrame: firstFrame ? firstFrame - t0 : Number.NaN,
  };
  await client.leave();
  return result;
};

/** Polls a receiver's stats every 10 ms until a video frame decodes (or 15 s pass). */
async function firstDecoded(stats: () => Promise<RTCStatsReport | Map<string, never>>) {
  let firstPacket = 0;
  let firstFrame = 0;
  const deadline = performance.now() + 15_000;
  while (!firstFrame && performance.now() < deadline) {
    for (const s of (await stats()).values()) {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') continue;
      if (!firstPacket && s.packetsReceived > 0) firstPacket = performance.now();
      if (s.framesDecoded > 0) firstFrame = performance.now();
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { firstPacket, firstFrame };
}

/** The bare SFU's signaling: one request at a time is all a join needs. */
async function bareChannel(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const waiting = new Map<number, (m: { ok: boolean; data: unknown; error?: string }) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  };
  const request = <T>(method: string, data: unknown = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, (m) => (m.ok ? resolve(m.data as T) : reject(new Error(m.error))));
      ws.send(JSON.stringify({ id, method, data }));
    });
  return { ws, request };
}

type BareRequest = Awaited<ReturnType<typeof bareChannel>>['request'];

/** A loaded device and one transport on the bare SFU, connected through its signaling when used. */
async function bareTransport(request: BareRequest, direction: 'send' | 'recv') {
  const device = new Device();
  await device.load({ routerRtpCapabilities: await request('getRouterRtpCapabilities') });
  const params = await request<types.TransportOptions>('createWebRtcTransport');
  const transport =
    direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
  transport.on('connect', ({ dtlsParameters }, ok, fail) =>
    request('connectTransport', { transportId: transport.id, dtlsParameters }).then(ok, fail),
  );
  return { device, transport };
}

window.barePublish = async (wsUrl) => {
  const { request } = await bareChannel(wsUrl);
  const { device, transport } = await bareTransport(request, 'send');
  transport.on('produce', ({ kind, rtpParameters }, ok, fail) =>
    request<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters }).then(ok, fail),
  );
  const media = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 640, height: 480 },
  });
  const vp8 = device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
  for (const track of media.getTracks())
    await transport.produce({ track, ...(track.kind === 'video' && vp8 ? { codec: vp8 } : {}) });
};

window.bareMeasure = async (wsUrl) => {
  const joinStart = performance.now();
  const { ws, request } = await bareChannel(wsUrl);
  const wsOpen = performance.now();
  const { device, transport } = await bareTransport(request, 'recv');
  const created = performance.now();
  let connectSent = Number.NaN;
  let connected = Number.NaN;
  transport.on('connect', () => {
    connectSent = performance.now();
  });
  transport.on('connectionstatechange', (s) => {
    if (s === 'connected') connected = performance.now();
  });
  const offered = await request<types.ConsumerOptions[]>('consume', {
    transportId: transport.id,
    rtpCapabilities: device.rtpCapabilities,
  });
  const consumers = await Promise.all(offered.map((c) => transport.consume(c)));
  // consume() connected the transport (DTLS parameters out); the consumers start without waiting
  // for the answer, as Tessera's connect carries its resume.
  void request('resume', { consumerIds: consumers.map((c) => c.id) });
  const video = consumers.find((c) => c.kind === 'video');
  const { firstPacket, firstFrame } = await firstDecoded(async () => (video ? video.getStats() : new Map()));
  const result = {
    fromJoin: firstFrame ? firstFrame - joinStart : Number.NaN,
    wsOpenFromJoin: wsOpen - joinStart,
    transportCreated: created - wsOpen,
    connectSent: connectSent - wsOpen,
    iceDtlsConnected: connected - wsOpen,
    connectSentFromJoin: connectSent - joinStart,
    connectedFromJoin: connected - joinStart,
    frameAfterConnected: firstFrame - connected,
    firstPacket: firstPacket ? firstPacket - wsOpen : Number.NaN,
    firstFrame: firstFrame ? firstFrame - wsOpen : Number.NaN,
  };
  transport.close();
  ws.close();
  return result;
};
