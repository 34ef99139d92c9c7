// The baseline for time to first frame: bare mediasoup (the same worker binary and router
// codecs as Tessera's media node) behind the least signaling a browser needs, in this process.
// A subscriber's join is: router capabilities, one receive transport, paused consumers for
// what is published, connect, resume. Loopback only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import { WebSocketServer } from 'ws';
import { enableH265 } from '../../media-node/codecs/h265.ts';
import { routerMediaCodecs } from '../../media-node/codecs/routerCodecs.ts';
import { PEER_TRANSPORT_OPTIONS } from '../../media-node/sfu/Room.ts';
import { assertWorkerBinary } from '../../media-node/workers/workerBinary.ts';

export interface BareSfu {
  /** ws://127.0.0.1:port: requests `{id, method, data}`, answers `{id, ok, data | error}`. */
  url: string;
  workerPid: number;
  close(): Promise<void>;
}

export async function startBareSfu(): Promise<BareSfu> {
  assertWorkerBinary();
  enableH265(); // the router codecs include it, as the media node's do
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const webRtcServer = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: 'udp', ip: '127.0.0.1', port: 0 },
      { protocol: 'tcp', ip: '127.0.0.1', port: 0 },
    ],
  });
  const producers = new Map<string, types.Producer>();
  const http = createServer((_, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http });

  wss.on('connection', (ws) => {
    const transports = new Map<string, types.WebRtcTransport>();
    const consumers = new Map<string, types.Consumer>();
    const handlers: Record<string, (data: Record<string, unknown>) => Promise<unknown>> = {
      getRouterRtpCapabilities: async () => router.rtpCapabilities,
      createWebRtcTransport: async () => {
        // As Tessera's media node makes them (Room.createTransport).
        const t = await router.createWebRtcTransport({ webRtcServer, ...PEER_TRANSPORT_OPTIONS });
        transports.set(t.id, t);
        return {
          id: t.id,
          iceParameters: t.iceParameters,
          iceCandidates: t.iceCandidates,
          dtlsParameters: t.dtlsParameters,
          sctpParameters: t.sctpParameters,
        };
      },
      connectTransport: async ({ transportId, dtlsParameters }) => {
        await transports.get(transportId as string)!.connect({
          dtlsParameters: dtlsParameters as types.DtlsParameters,
        });
      },
      produce: async ({ transportId, kind, rtpParameters }) => {
        const producer = await transports.get(transportId as string)!.produce({
          kind: kind as types.MediaKind,
          rtpParameters: rtpParameters as types.RtpParameters,
        });
        producers.set(producer.id, producer);
        producer.observer.once('close', () => producers.delete(producer.id));
        return { id: producer.id };
      },
      /** Paused consumers for everything published (Tessera's login answer does the same). */
      consume: async ({ transportId, rtpCapabilities }) => {
        const transport = transports.get(transportId as string)!;
        const out = [];
        for (const p of producers.values()) {
          const caps = rtpCapabilities as types.RtpCapabilities;
          if (!router.canConsume({ producerId: p.id, rtpCapabilities: caps })) continue;
          const c = await transport.consume({ producerId: p.id, rtpCapabilities: caps, paused: true });
          consumers.set(c.id, c);
          out.push({ id: c.id, producerId: p.id, kind: c.kind, rtpParameters: c.rtpParameters });
        }
        return out;
      },
      resume: async ({ consumerIds }) => {
        await Promise.all((consumerIds as string[]).map((id) => consumers.get(id)?.resume()));
      },
    };
    ws.on('message', async (raw) => {
      let message: { id: number; method: string; data?: Record<string, unknown> };
      try {
        message = JSON.parse(String(raw));
      } catch {
        return;
      }
      try {
        const handler = handlers[message.method];
        if (!handler) throw new Error(`no method ${message.method}`);
        ws.send(JSON.stringify({ id: message.id, ok: true, data: await handler(message.data ?? {}) }));
      } catch (error) {
        ws.send(JSON.stringify({ id: message.id, ok: false, error: String(error) }));
      }
    });
    ws.on('close', () => {
      for (const t of transports.values()) t.close();
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    workerPid: worker.pid,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.close();
      worker.close();
    },
  };
}
