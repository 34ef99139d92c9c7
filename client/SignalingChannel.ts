import type { Method, ServerEvent, SignalingResponse } from '../shared/protocol/signaling.ts';
import { Emitter } from './Emitter.ts';

export class TesseraClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** What the server said about the refusal (a limit's name, the subscription that holds it). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TesseraClientError';
  }
}

/** Close codes the SDK uses: 1000 only when leaving, so the server ends the session at once. */
export const CloseCodes = { leaving: 1000, replaced: 4000, unresponsive: 4001 } as const;

type ChannelEvents = {
  event: [ServerEvent];
  /** The current socket closed by itself (network, server): the session may resume on a new one. */
  lost: [{ code: number }];
};

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  socket: WebSocket;
}

/**
 * The session's signaling: requests with ids and timeouts over the current WebSocket, server
 * events, and the swap to a new socket when the session resumes (requests already sent on the
 * old one are still answered there until it closes).
 */
export class SignalingChannel extends Emitter<ChannelEvents> {
  #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  readonly #abandoned = new WeakSet<WebSocket>();

  constructor(ws: WebSocket) {
    super();
    this.#ws = ws;
    this.#attach(ws);
  }

  get open(): boolean {
    return !this.#closed && !this.#abandoned.has(this.#ws) && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Makes `ws` the current socket; the previous one is closed (its late answers still count until then). */
  replace(ws: WebSocket): void {
    const previous = this.#ws;
    this.#ws = ws;
    this.#attach(ws);
    if (previous.readyState === WebSocket.OPEN || previous.readyState === WebSocket.CONNECTING)
      previous.close(CloseCodes.replaced, 'replaced');
  }

  /**
   * Gives up on the current socket (it stopped answering): it is closed, what was asked on it
   * fails now, and no `lost` follows (the caller is already recovering; a closing handshake
   * with an unresponsive peer can take long).
   */
  abandon(code: number, reason: string): void {
    const ws = this.#ws;
    this.#abandoned.add(ws);
    this.#failPendingOn(ws, 'connection abandoned');
    ws.close(code, reason);
  }

  request<T = unknown>(method: Method, params: unknown, timeoutMs: number): Promise<T> {
    if (this.#closed) return Promise.reject(new TesseraClientError(1201, 'session closed'));
    const socket = this.#ws;
    if (socket.readyState !== WebSocket.OPEN || this.#abandoned.has(socket))
      return Promise.reject(new TesseraClientError(1201, `${method}: not connected`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TesseraClientError(1201, `${method} timed out`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, socket });
      socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Ends the channel: the socket closes with `code` and every request in flight fails. */
  close(code: number = CloseCodes.leaving): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close(code);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new TesseraClientError(1201, 'session closed'));
    }
    this.#pending.clear();
  }

  #attach(ws: WebSocket): void {
    ws.addEventListener('message', (e) => this.#onMessage(String(e.data)));
    ws.addEventListener('close', (e) => {
      // What was asked on this socket will not be answered now.
      this.#failPendingOn(ws, 'connection lost');
      // However it closed (the server's close codes say nothing about whether to come back):
      // a session that did not end itself resumes.
      if (ws === this.#ws && !this.#closed && !this.#abandoned.has(ws)) this.emit('lost', { code: e.code });
    });
  }

  #failPendingOn(ws: WebSocket, why: string): void {
    for (const [id, pending] of this.#pending) {
      if (pending.socket !== ws) continue;
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new TesseraClientError(1201, why));
    }
  }

  #onMessage(raw: string): void {
    let message: SignalingResponse | ServerEvent;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if ('event' in message) {
      this.emit('event', message);
      return;
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data);
    else
      pending.reject(
        new TesseraClientError(
          message.error?.code ?? 2001,
          message.error?.message ?? 'request failed',
          message.error?.details,
        ),
      );
  }
}

/** Opens a WebSocket; rejects when it cannot (token or ticket refused, server unreachable) or after `timeoutMs`. */
export function openSocket(url: string, timeoutMs = 10_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new TesseraClientError(1101, 'could not connect (timed out)'));
    }, timeoutMs);
    ws.addEventListener(
      'open',
      () => {
        clearTimeout(timer);
        resolve(ws);
      },
      { once: true },
    );
    ws.addEventListener(
      'error',
      () => {
        clearTimeout(timer);
        reject(new TesseraClientError(1101, 'could not connect (token refused or server unreachable)'));
      },
      { once: true },
    );
  });
}
