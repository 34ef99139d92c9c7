import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../shared/logger.ts';
import { type ConnectionGateway, MessageTooLargeError } from '../../shared/ports/gateway.ts';
import { MAX_MESSAGE_BYTES, type ServerMessage } from '../../shared/protocol/signaling.ts';
import type { ConnectResult } from '../signaling/SignalingFunction.ts';

/** The routes of a WebSocket API, as API Gateway invokes them. */
export interface WebSocketRoutes {
  connect(connectionId: string, token: string | undefined): Promise<ConnectResult>;
  message(connectionId: string, body: string): Promise<void>;
  disconnect(connectionId: string): Promise<void>;
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
  readonly #path: string;
  readonly #logger: Logger;
  #routes: WebSocketRoutes | undefined;

  constructor(options: { path: string; logger: Logger }) {
    this.#path = options.path;
    this.#logger = options.logger;
  }

  /** The signaling function; set after construction because it needs this gateway itself. */
  route(routes: WebSocketRoutes): void {
    this.#routes = routes;
  }

  attach(server: Server): void {
    server.on('upgrade', (request, socket, head) => void this.#upgrade(request, socket, head));
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname !== this.#path || !this.#routes) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const connectionId = randomUUID();
    const verdict = await this.#routes.connect(connectionId, url.searchParams.get('token') ?? undefined);
    if (!verdict.ok) {
      const body = JSON.stringify({ message: verdict.message });
      socket.end(
        `HTTP/1.1 ${verdict.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#sockets.set(connectionId, ws);
      const now = new Date().toISOString();
      this.#times.set(connectionId, { connectedAt: now, lastActiveAt: now });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        this.#times.get(connectionId)!.lastActiveAt = new Date().toISOString();
        void this.#routes!.message(connectionId, data.toString()).catch((error) =>
          this.#logger.error('$default failed', { error }),
        );
      });
      ws.once('close', () => {
        this.#sockets.delete(connectionId);
        this.#times.delete(connectionId);
        void this.#routes!.disconnect(connectionId).catch((error) =>
          this.#logger.error('$disconnect failed', { error }),
        );
      });
      ws.on('error', () => ws.terminate());
    });
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
    this.#sockets.get(connectionId)?.close(1000, 'disconnected by the server');
  }

  close(): void {
    for (const ws of this.#sockets.values()) ws.terminate();
    this.#wss.close();
  }
}
