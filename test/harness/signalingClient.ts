import { connect } from 'node:net';
import { WebSocket } from 'ws';

export interface SignalingAnswer {
  id: string | number | null;
  ok: boolean;
  data?: unknown;
  error?: { code: number; message: string };
}

/** A raw signaling connection (no browser): requests, answers and pushed events, for protocol tests. */
export interface SignalingClient {
  ws: WebSocket;
  request<T = unknown>(
    method: string,
    params?: unknown,
    timeoutMs?: number,
  ): Promise<SignalingAnswer & { data?: T }>;
  /** Every pushed event so far. */
  events: { event: string; data: unknown }[];
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
  close(): void;
}

/** Opens `<signalingUrl>?token=…`; rejects with the HTTP status of a refused upgrade. */
export function openSignaling(signalingUrl: string, token: string): Promise<SignalingClient> {
  const ws = new WebSocket(`${signalingUrl}?token=${encodeURIComponent(token)}`);
  const pending = new Map<string, (answer: SignalingAnswer) => void>();
  const events: SignalingClient['events'] = [];
  let next = 1;
  ws.on('message', (raw) => {
    const message = JSON.parse(String(raw));
    if ('event' in message) events.push(message);
    else pending.get(String(message.id))?.(message);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new RefusedUpgrade(res.statusCode ?? 0)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        events,
        closed,
        close: () => ws.close(),
        request(method, params = {}, timeoutMs = 10_000) {
          const id = `r${next++}`;
          return new Promise((done, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`${method}: no answer in ${timeoutMs} ms`)),
              timeoutMs,
            );
            pending.set(id, (answer) => {
              clearTimeout(timer);
              pending.delete(id);
              done(answer as SignalingAnswer & { data?: never });
            });
            ws.send(JSON.stringify({ id, method, params }));
          });
        },
      }),
    );
  });
}

export class RefusedUpgrade extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with ${status}`);
  }
}

/**
 * Sends a raw HTTP request (any request line, e.g. an upgrade with a target `new URL()` rejects)
 * and resolves with the status line of the answer ('' when the server closed without one).
 */
export function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer.split('\r\n')[0] ?? ''));
  });
}

/** An upgrade request for `target`, as a WebSocket client would send it. */
export const upgradeRequest = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
