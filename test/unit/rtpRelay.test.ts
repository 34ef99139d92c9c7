import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpRelay } from '../../media-node/mcu/RtpRelay.ts';
import type { RtpOutput } from '../../media-node/pipelines/RtpBridge.ts';

/** An RTP packet (version 2, payload type 96) with a few payload bytes. */
const rtp = (seq: number, ts: number) => {
  const packet = Buffer.alloc(20);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(ts >>> 0, 4);
  return packet;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RtpRelay (loopback UDP)', () => {
  let sink: Socket | undefined;
  let relay: RtpRelay | undefined;
  afterEach(() => {
    relay?.close();
    sink?.close();
  });

  /** A relay in wall-clock mode whose output a local socket receives as [seq, ts] pairs. */
  async function open() {
    const socket = createSocket('udp4');
    sink = socket;
    const got: [number, number][] = [];
    socket.on('message', (p) => got.push([p.readUInt16BE(2), p.readUInt32BE(4)]));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const output = { url: `rtp://127.0.0.1:${socket.address().port}?pkt_size=1200` } as RtpOutput;
    const opened = await RtpRelay.open(output, 90_000, false, true);
    relay = opened;
    const sender = createSocket('udp4');
    const port = Number(new URL(opened.url).port);
    const send = (p: Buffer) => new Promise<void>((r) => sender.send(p, port, '127.0.0.1', () => r()));
    return { got, send, close: () => sender.close() };
  }

  it('wall clock: a frame’s packets share a timestamp, frames advance by the time between them, across runs too', async () => {
    const { got, send, close } = await open();
    // Run 1: two frames 100 ms apart whose own timestamps say 10 ms (a frame-count clock behind).
    await send(rtp(1000, 5000));
    await send(rtp(1001, 5000));
    await sleep(100);
    await send(rtp(1002, 5900));
    await sleep(20);
    // Run 2 (a restarted encoder): its own sequence and timestamp start anywhere, even behind.
    relay!.newRun();
    await sleep(50);
    await send(rtp(7, 100));
    await send(rtp(8, 100));
    await sleep(50);
    close();
    expect(got).toHaveLength(5);
    const [a, b, c, d, e] = got as [
      [number, number],
      [number, number],
      [number, number],
      [number, number],
      [number, number],
    ];
    expect([a[0], b[0], c[0], d[0], e[0]]).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(b[1]).toBe(a[1]);
    expect(e[1]).toBe(d[1]);
    // ~100 ms and ~50 ms at 90 kHz (timers run late, never early).
    expect(c[1] - a[1]).toBeGreaterThanOrEqual(90 * 95);
    expect(c[1] - a[1]).toBeLessThan(90 * 1000);
    expect(d[1] - c[1]).toBeGreaterThanOrEqual(90 * 65);
    expect(d[1] - c[1]).toBeLessThan(90 * 1000);
  });
});
