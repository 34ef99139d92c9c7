// WebRTC receivers (child process): one werift peer connection per consumer, through
// mediasoup-client as a browser would use it. Each does ICE (and keeps consent alive), DTLS,
// SRTP decryption and RTCP feedback (receiver reports, NACK, transport-wide CC) like a browser,
// but does not decode. Counts RTP packets and sequence gaps.
// IPC, parent → child: {id, cmd:'load', caps} (answered with the device's) | {id, cmd:'add', transport, consumer} | {id, cmd:'snap'};
// child → parent: {re: id, ...answer} and {id, cmd:'connect', transportId, dtlsParameters}, which the
// parent answers with {re: id}.
import { Device, type types } from 'mediasoup-client';
import { useWerift } from '../../cli/loadTest/nodeWebRtc.ts';

useWerift();
const device = new Device({ handlerName: 'Chrome111' });
const transports: types.Transport[] = [];
let packets = 0;
let lost = 0;
let nextId = 1;
const pending = new Map<number, () => void>();

function ask(msg: object): Promise<void> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    process.send!({ id, ...msg });
  });
}

interface Add {
  transport: types.TransportOptions;
  consumer: types.ConsumerOptions;
}

async function add({ transport: options, consumer: consumerOptions }: Add): Promise<void> {
  const transport = device.createRecvTransport(options);
  transports.push(transport);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    ask({ cmd: 'connect', transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  const consumer = await transport.consume(consumerOptions);
  let last = -1;
  // werift's track: every RTP packet after SRTP, before any jitter buffer.
  (
    consumer.track as unknown as {
      onReceiveRtp: { subscribe(f: (rtp: { header: { sequenceNumber: number } }) => void): void };
    }
  ).onReceiveRtp.subscribe(({ header }) => {
    packets++;
    const seq = header.sequenceNumber;
    if (last >= 0) {
      const d = (seq - last) & 0xffff;
      if (d === 0 || d >= 0x8000) return;
      if (d > 1) lost += d - 1;
    }
    last = seq;
  });
}

process.on('message', async (msg: { re?: number; id?: number; cmd?: string } & Record<string, unknown>) => {
  if (msg.re !== undefined) {
    pending.get(msg.re)?.();
    pending.delete(msg.re);
    return;
  }
  try {
    if (msg.cmd === 'load') {
      await device.load({ routerRtpCapabilities: msg.caps as types.RtpCapabilities });
      process.send!({ re: msg.id, caps: device.rtpCapabilities });
      return;
    }
    if (msg.cmd === 'add') await add(msg as unknown as Add);
    process.send!({ re: msg.id, packets, lost });
  } catch (error) {
    process.send!({ re: msg.id, error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
