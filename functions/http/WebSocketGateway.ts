import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../shared/logger.ts';
import { type ConnectionGateway, GOODBYE_CODES, MessageTooLargeError } from '../../shared/ports/gateway.ts';
import { MAX_MESSAGE_BYTES, type ServerMessage } from '../../shared/protocol/signaling.ts';
import type { ConnectResult } from '../signaling/SignalingFunction.ts';

/** The routes of a WebSocket API, as API Gateway invokes them. */
export interface WebSocketRoutes {
  /** `resume`: a resume ticket instead of a join token (a session reconnecting). */
  connect(connectionId: string, token: string | undefined, resume?: string): Promise<ConnectResult>;
  message(connectionId: string, body: string): Promise<void>;
  /** `left`: the client closed the socket meaning to leave (GOODBYE_CODES), not the network or the server. */
  disconnect(connectionId: string, how?: { left: boolean }): Promise<void>;
}

/**
 * A WebSocket gateway with API Gateway's semantics, on a Node HTTP server: `$connect` decides
 * during the upgrade (a rejection means no socket, only an HTTP status), `$default` gets every
 * message, `$disconnect` every close, and `post`/`disconnect` by connection id are the
 * management side (a gone connection answers false, as 410 does). Frames over 128 KiB close the
 * socket, as API Gateway's limit does.
 */
export class WebSocketGateway implements ConnectionGateway {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  readonly #sockets = new Map<string, WebSocket>();
  readonly #times = new Map<string, { connectedAt: string; lastActiveAt: string }>();
  /** Sockets that answered the last ping; the others are half-open and get closed. */
  readonly #alive = new WeakSet<WebSocket>();
  /** Sockets this side closed (age, half-open, @connections DELETE): their participants did not leave. */
  readonly #closedByServer = new WeakSet<WebSocket>();
  readonly #pinger: ReturnType<typeof setInterval>;
  readonly #path: string;
  readonly #logger: Logger;
  #routes: WebSocketRoutes | undefined;

  /** Oldest a connection may get (API Gateway closes every one after 2 hours); unlimited when absent. */
  readonly #maxConnectionMs: number | undefined;

  constructor(options: {
    path: string;
    logger: Logger;
    pingIntervalMs?: number;
    maxConnectionMs?: number;
  }) {
    this.#path = options.path;
    this.#logger = options.logger;
    this.#maxConnectionMs = options.maxConnectionMs;
    this.#pinger = setInterval(() => this.#ping(), options.pingIntervalMs ?? 20_000);
    this.#pinger.unref();
  }

  /** The signaling function; set after construction because it needs this gateway itself. */
  route(routes: WebSocketRoutes): void {
    this.#routes = routes;
  }

  attach(server: Server): void {
    server.on('upgrade', (request, socket, head) => {
      this.#upgrade(request, socket, head).catch((error) => {
        this.#logger.error('WebSocket upgrade failed', { error });
        refuse(socket, 500, 'upgrade failed');
      });
    });
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A peer that vanishes mid-handshake must not raise an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    const url = URL.parse(request.url ?? '/', 'http://gateway');
    if (!url) return refuse(socket, 400, 'malformed request target');
    if (url.pathname !== this.#path || !this.#routes) return refuse(socket, 404, 'not found');
    const routes = this.#routes;
    const connectionId = randomUUID();
    const verdict = await routes.connect(
      connectionId,
      url.searchParams.get('token') ?? undefined,
      url.searchParams.get('resume') ?? undefined,
    );
    if (!verdict.ok) return refuse(socket, verdict.status, verdict.message);
    // $connect admitted a participant: if the handshake never completes, $disconnect must still
    // run, or the participant would stay listed forever.
    let settled = false;
    const abandon = () => {
      if (settled) return;
      settled = true;
      void routes
        .disconnect(connectionId)
        .catch((error) => this.#logger.error('$disconnect failed', { error }));
    };
    if (socket.destroyed || !socket.writable) return abandon();
    socket.once('close', abandon);
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      socket.off('close', abandon);
      if (settled) {
        ws.terminate();
        return;
      }
      settled = true;
      this.#open(connectionId, ws, routes);
    });
  }

  #open(connectionId: string, ws: WebSocket, routes: WebSocketRoutes): void {
    this.#sockets.set(connectionId, ws);
    this.#alive.add(ws);
    const now = new Date().toISOString();
    this.#times.set(connectionId, { connectedAt: now, lastActiveAt: now });
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('message', (data, isBinary) => {
      this.#alive.add(ws);
      if (isBinary) return;
      const times = this.#times.get(connectionId);
      if (times) times.lastActiveAt = new Date().toISOString();
      void routes
        .message(connectionId, data.toString())
        .catch((error) => this.#logger.error('$default failed', { error }));
    });
    ws.once('close', (code) => {
      this.#sockets.delete(connectionId);
      this.#times.delete(connectionId);
      const left = !this.#closedByServer.has(ws) && GOODBYE_CODES.has(code);
      void routes
        .disconnect(connectionId, { left })
        .catch((error) => this.#logger.error('$disconnect failed', { error }));
    });
    ws.on('error', () => ws.terminate());
  }

  /** Closes sockets that missed a ping (a peer gone without a FIN) or outlived their age, then pings the rest. */
  #ping(): void {
    const now = Date.now();
    for (const [connectionId, ws] of this.#sockets) {
      const connectedAt = Date.parse(this.#times.get(connectionId)?.connectedAt ?? '');
      if (this.#maxConnectionMs !== undefined && now - connectedAt > this.#maxConnectionMs) {
        this.#closedByServer.add(ws);
        ws.close(1001, 'connection too old; reconnect');
        continue;
      }
      if (!this.#alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }

  async post(connectionId: string, message: ServerMessage): Promise<boolean> {
    const data = JSON.stringify(message);
    // API Gateway refuses a post over its frame limit (413; the @connections emulator checks
    // before sendRaw); embedded mode refuses it alike.
    const bytes = Buffer.byteLength(data);
    if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes);
    return this.sendRaw(connectionId, data);
  }

  /** Sends a frame as it is (the @connections API posts opaque data). False when gone. */
  sendRaw(connectionId: string, data: string): boolean {
    const ws = this.#sockets.get(connectionId);
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data);
    return true;
  }

  /** GetConnection's answer, with API Gateway's field names; undefined when gone. */
  describe(
    connectionId: string,
  ): { connectedAt: string; lastActiveAt: string; identity: { sourceIp: string } } | undefined {
    const times = this.#times.get(connectionId);
    return times && { ...times, identity: { sourceIp: '127.0.0.1' } };
  }

  async disconnect(connectionId: string): Promise<void> {
    const ws = this.#sockets.get(connectionId);
    if (!ws) return;
    this.#closedByServer.add(ws);
    ws.close(1000, 'disconnected by the server');
  }

  close(): void {
    clearInterval(this.#pinger);
    for (const ws of this.#sockets.values()) ws.terminate();
    this.#wss.close();
  }
}

/** Answers an upgrade request with an HTTP error and closes the socket ($connect's refusal). */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 404 ? 'Not Found' : 'Refused'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
