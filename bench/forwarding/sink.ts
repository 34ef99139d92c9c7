// UDP sink (child process): one socket per consumer, counting RTP packets and sequence gaps.
// SRTP leaves the RTP header in clear, so seq is readable either way; RTCP is ignored.
// IPC: {cmd:'open', n} → {ports}, {cmd:'snap'} → {packets, lost} totals.
import { createSocket, type Socket } from 'node:dgram';

const sockets: Socket[] = [];
let packets = 0;
let lost = 0;

function open(): Promise<number> {
  return new Promise((resolve) => {
    let last = -1;
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    socket.on('message', (m) => {
      const b1 = m[1]!;
      if ((b1 >= 192 && b1 <= 223) || (b1 & 0x7f) === 127) return; // RTCP, BWE probation
      packets++;
      const seq = (m[2]! << 8) | m[3]!;
      if (last >= 0) {
        const d = (seq - last) & 0xffff;
        if (d === 0 || d >= 0x8000) return;
        if (d > 1) lost += d - 1;
      }
      last = seq;
    });
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
    sockets.push(socket);
  });
}

process.on('message', async (msg: { cmd: 'open'; n: number } | { cmd: 'snap' }) => {
  if (msg.cmd === 'open') {
    const ports: number[] = [];
    for (let i = 0; i < msg.n; i++) ports.push(await open());
    process.send!({ ports });
  } else {
    process.send!({ packets, lost });
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
