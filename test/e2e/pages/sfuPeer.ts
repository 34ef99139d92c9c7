// Browser side of the WebRtcTransport test: mediasoup-client over a signaling function the
// test exposes to the page (window.signal). Bundled with esbuild at test time.

import type { types } from 'mediasoup-client';
import { Device } from 'mediasoup-client';

declare global {
  interface Window {
    // biome-ignore lint/suspicious/noExplicitAny: the test's signaling answers differ per method
    signal(method: string, data?: unknown): Promise<any>;
    publish(): Promise<string>;
    subscribe(producerId: string): Promise<{ framesDecoded: number; width: number; height: number }>;
  }
}

async function loadDevice(): Promise<Device> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: await window.signal('routerRtpCapabilities') });
  return device;
}

function wireTransport(transport: types.Transport): void {
  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    window.signal('connect', { transportId: transport.id, dtlsParameters }).then(done, fail);
  });
}

window.publish = async () => {
  const device = await loadDevice();
  const transport = device.createSendTransport(await window.signal('createTransport'));
  wireTransport(transport);
  transport.on('produce', ({ kind, rtpParameters }, done, fail) => {
    window.signal('produce', { transportId: transport.id, kind, rtpParameters }).then(done, fail);
  });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const producer = await transport.produce({ track: stream.getVideoTracks()[0]! });
  return producer.id;
};

window.subscribe = async (producerId) => {
  const device = await loadDevice();
  const transport = device.createRecvTransport(await window.signal('createTransport'));
  wireTransport(transport);
  const params = await window.signal('consume', {
    transportId: transport.id,
    producerId,
    rtpCapabilities: device.rtpCapabilities,
  });
  const consumer = await transport.consume(params);
  await window.signal('resume', { consumerId: consumer.id });
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = new MediaStream([consumer.track]);
  document.body.append(video);
  await video.play();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const report of (await consumer.getStats()).values()) {
      // (the first report with a decoded frame may not carry the frame size yet)
      if (report.type === 'inbound-rtp' && report.framesDecoded > 0 && report.frameWidth) {
        return { framesDecoded: report.framesDecoded, width: report.frameWidth, height: report.frameHeight };
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { framesDecoded: 0, width: 0, height: 0 };
};
