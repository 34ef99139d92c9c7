// What the forwarding benchmarks share: CPU pinning and accounting from /proc, kernel UDP drops,
// child processes spoken to over IPC, and the cost-per-packet fit.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import { enableH265 } from '../../media-node/codecs/h265.ts';
import { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../shared/logger.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const DATA = join(here, '..', 'results', 'vp8-640x480-800k.rtp');
export const LOSS_LIMIT = 0.5;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pin = (pid: number, cpu: string) =>
  execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });

/** CPU time of every thread of a process in ns (/proc/<pid>/task/<tid>/schedstat): finer than ticks. */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return total;
}

/** Kernel receive-queue drops per local UDP port on 127.0.0.1 (/proc/net/udp, last column). */
export function udpDrops(): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 12) drops.set(Number.parseInt(cols[1]!.split(':')[1]!, 16), Number(cols.at(-1)));
  }
  return drops;
}
export const dropsOn = (before: Map<number, number>, after: Map<number, number>, ports: number[]) =>
  ports.reduce((sum, p) => sum + (after.get(p) ?? 0) - (before.get(p) ?? 0), 0);

export function child(file: string, argv: string[] = []): ChildProcess {
  return fork(join(here, file), argv, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function ask<T>(proc: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(m as T));
    proc.send(msg);
  });
}

/** Least-squares slope of worker CPU (fraction of a core) over delivered packets/s: µs per packet. */
export function slopeUsPerPacket(points: { pps: number; cpuPct: number }[]): number {
  const xs = points.map((s) => s.pps);
  const ys = points.map((s) => s.cpuPct / 100);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope =
    xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return slope * 1e6;
}

/** The replayed VP8 stream's way in: a PlainTransport that learns the sender's address (comedia). */
export async function replayedVp8Producer(router: types.Router) {
  const input = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: false,
    comedia: true,
  });
  const fb = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];
  const producer = await input.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: fb }],
      encodings: [{ ssrc: 11111111 }],
    },
  });
  return { producer, inputPort: input.tuple.localPort };
}

/** Whose worker: Tessera's media node's (WorkerPool) or mediasoup's defaults, the same binary. */
export type Arm = 'tessera' | 'bare';

export async function armWorker(arm: Arm): Promise<{ worker: types.Worker; close(): void }> {
  if (arm === 'tessera') {
    const pool = await WorkerPool.create({
      size: 1,
      logger: createLogger({ level: 'warn' }),
      respawn: false,
    });
    return { worker: pool.workers[0]!, close: () => pool.close() };
  }
  enableH265(); // the same router codecs on both arms
  const worker = await mediasoup.createWorker();
  return { worker, close: () => worker.close() };
}
