// Paced RTP replayer (child process): loops a recorded VP8 stream at its media time.
// Usage: send.ts <file> <port>. Each packet is due at start + loop·loopLength + (ts − ts0)/90 kHz;
// on every loop seq continues, the timestamp advances by the loop length and the VP8 15-bit
// PictureID continues, so the stream stays valid forever. Reports {sent} on IPC request.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const [file, portArg] = process.argv.slice(2);
const port = Number(portArg);
const data = readFileSync(file!);
const packets: Buffer[] = [];
for (let o = 0; o < data.length; ) {
  const len = data.readUInt16LE(o);
  packets.push(data.subarray(o + 2, o + 2 + len));
  o += 2 + len;
}
const CLOCK = 90_000;
const ts0 = packets[0]!.readUInt32BE(4);
const loopTicks = ((packets.at(-1)!.readUInt32BE(4) - ts0) >>> 0) + CLOCK / 30;
const loopMs = (loopTicks / CLOCK) * 1000;
const offsetMs = packets.map((p) => (((p.readUInt32BE(4) - ts0) >>> 0) / CLOCK) * 1000);
const pictureIdAt = (p: Buffer) => 12 + 4 * (p[0]! & 0x0f) + 2; // X and I bits set by ffmpeg, M bit → 15-bit id
const pid = (p: Buffer) => ((p[pictureIdAt(p)]! & 0x7f) << 8) | p[pictureIdAt(p) + 1]!;
const pidSpan = ((pid(packets.at(-1)!) - pid(packets[0]!)) & 0x7fff) + 1;

const socket = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
const now = () => Number(process.hrtime.bigint()) / 1e6;
const start = now() + 50;
let index = 0;
let loop = 0;
let seq = packets[0]!.readUInt16BE(2);
let sent = 0;

function tick(): void {
  for (;;) {
    const due = start + loop * loopMs + offsetMs[index]!;
    if (due > now()) {
      setTimeout(tick, Math.max(0, due - now() - 0.3));
      return;
    }
    const p = Buffer.from(packets[index]!);
    p.writeUInt16BE(seq, 2);
    seq = (seq + 1) & 0xffff;
    p.writeUInt32BE((p.readUInt32BE(4) + loop * loopTicks) >>> 0, 4);
    if (loop > 0) {
      const id = (pid(p) + loop * pidSpan) & 0x7fff;
      p[pictureIdAt(p)] = 0x80 | (id >> 8);
      p[pictureIdAt(p) + 1] = id & 0xff;
    }
    socket.send(p, port, '127.0.0.1');
    sent++;
    if (++index === packets.length) {
      index = 0;
      loop++;
    }
  }
}
setTimeout(tick, 50);
process.on('message', () => process.send!({ sent, t: now() }));
process.on('disconnect', () => process.exit(0));
