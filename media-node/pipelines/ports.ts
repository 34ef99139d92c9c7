import { createSocket } from 'node:dgram';

const LOOPBACK = '127.0.0.1';

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, LOOPBACK, () => socket.close(() => resolve(true)));
  });
}

/** Ports handed out recently, so that two pipelines starting together do not pick the same pair. */
const recent = new Set<number>();

/**
 * An even UDP port P with P and P + 1 free on 127.0.0.1, for an ffmpeg RTP socket and its RTCP
 * (ffmpeg binds them itself, so mediasoup cannot allocate them). Above mediasoup's usual range.
 */
export async function freeUdpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 61_000 + 2 * Math.floor(Math.random() * 2_000);
    if (recent.has(port)) continue;
    if ((await udpFree(port)) && (await udpFree(port + 1))) {
      recent.add(port);
      setTimeout(() => recent.delete(port), 60_000).unref();
      return port;
    }
  }
  throw new Error('no free UDP port pair on 127.0.0.1');
}
