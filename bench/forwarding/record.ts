// Records ~10 s of VP8 RTP from ffmpeg (testsrc2 640x480@30, CBR 800 kbit/s, key frame every
// 2 s) into a packet file that send.ts replays in a loop, so the encoder's cost stays out of
// the measurement. Format: repeated [uint16 LE length][RTP packet]; ffmpeg's RTCP is dropped.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FfmpegProcess } from '../../media-node/ffmpeg/FfmpegProcess.ts';

export async function recordVp8(file: string, seconds = 10, port = 40_101): Promise<number> {
  mkdirSync(dirname(file), { recursive: true });
  const packets: Buffer[] = [];
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  socket.on('message', (msg) => {
    if (msg.length >= 12 && !(msg[1]! >= 192 && msg[1]! <= 223)) packets.push(Buffer.from(msg));
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const encoder = new FfmpegProcess({
    args: [
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x480:rate=30',
      '-frames:v',
      String(seconds * 30),
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      '800k',
      '-minrate',
      '800k',
      '-maxrate',
      '800k',
      '-bufsize',
      '400k',
      '-g',
      '60',
      '-keyint_min',
      '60',
      '-auto-alt-ref',
      '0',
      '-lag-in-frames',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-an',
      '-f',
      'rtp',
      '-payload_type',
      '101',
      '-ssrc',
      '11111111',
      `rtp://127.0.0.1:${port}?pkt_size=1200`,
    ],
  });
  const exit = await encoder.exited();
  await new Promise((r) => setTimeout(r, 300));
  socket.close();
  if (exit.code !== 0) throw new Error(`ffmpeg failed: ${encoder.stderrTail}`);
  const parts: Buffer[] = [];
  for (const p of packets) {
    const header = Buffer.alloc(2);
    header.writeUInt16LE(p.length);
    parts.push(header, p);
  }
  writeFileSync(file, Buffer.concat(parts));
  return packets.length;
}
