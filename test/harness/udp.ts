import { createSocket } from 'node:dgram';

export function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** An even UDP port P with P and P+1 free on 127.0.0.1 (RTP and RTCP for an ffmpeg receiver). */
export async function freeUdpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    if ((await udpFree(port)) && (await udpFree(port + 1))) return port;
  }
  throw new Error('no free UDP port pair on 127.0.0.1');
}
