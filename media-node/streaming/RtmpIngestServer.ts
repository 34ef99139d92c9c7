import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/logger.ts';

/**
 * The RTMP protocol engine of node-media-server (handshake, chunk stream, AMF commands), used as
 * a library: its server, HTTP API and broadcast fan-out are not. Pinned, so these shapes hold.
 */
interface RtmpPacket {
  /** FLV tag type: 8 audio, 9 video, 18 script. */
  codec_type: number;
  /** 0 an AAC sequence header, 2 a video sequence header, 5 script data. */
  flags: number;
  dts: number;
  size: number;
  data: Buffer;
}
interface RtmpEngine {
  onConnectCallback: (req: { app: string; name: string }) => void;
  onPlayCallback: () => void;
  onPushCallback: () => void;
  onPacketCallback: (packet: RtmpPacket) => void;
  onOutputCallback: (buffer: Buffer) => void;
  /** An error message, or null. */
  parserData(buffer: Buffer): string | null;
}
const require = createRequire(import.meta.url);
const Rtmp = require('node-media-server/src/protocol/rtmp.js') as new () => RtmpEngine;
const Flv = require('node-media-server/src/protocol/flv.js') as {
  createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
  createMessage(packet: RtmpPacket): Buffer;
};

/** A publisher must have said `publish` this soon after connecting. */
const PUBLISH_WITHIN_MS = 10_000;
/** Connections at once (publishing or not): each costs a socket and a parser. */
const MAX_CONNECTIONS = 64;
/** A publisher whose messages stop this long is gone (a half-open TCP connection). */
const IDLE_MS = 15_000;

type SessionEvents = { data: [Buffer]; end: [] };

/**
 * One publisher on one stream key: its media as an FLV byte stream (`data`: the FLV header, then
 * one tag per message), until `end`. The sequence headers (AAC config, AVC config) are kept, so
 * a consumer that starts again mid-stream (a restarted ffmpeg) can be given them first.
 */
export class RtmpIngestSession extends EventEmitter<SessionEvents> {
  readonly #socket: Socket;
  readonly #headers = new Map<number, Buffer>();
  #ended = false;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** What a new reader needs before the next tag: the FLV header and the codecs' configuration. */
  preamble(): Buffer {
    return Buffer.concat([Flv.createHeader(true, true), ...this.#headers.values()]);
  }

  /** For the server: one RTMP media message. */
  packet(packet: RtmpPacket): void {
    if (this.#ended || (packet.codec_type !== 8 && packet.codec_type !== 9)) return;
    const tag = Flv.createMessage(packet);
    if (packet.flags === 0 || packet.flags === 2) this.#headers.set(packet.flags, tag);
    this.emit('data', tag);
  }

  /** For the server: the connection closed. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('end');
  }

  /** Disconnects the publisher (the ingest was deleted). */
  close(): void {
    this.#socket.destroy();
    this.end();
  }
}

/** What a stream key is registered with: given each publisher; false refuses it (one at a time). */
export type IngestHandler = (session: RtmpIngestSession) => boolean;

/**
 * The node's RTMP ingest: one TCP listener where encoders (OBS, ffmpeg, hardware encoders) push
 * `rtmp://host:port/<app>/<stream key>`. A publish whose key no ingest registered is refused
 * before any media is read (the connection closes); a key is the ingest's secret and never
 * reaches a log. Playing is refused: this is an ingest, not a server players read from.
 */
export class RtmpIngestServer {
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #handlers = new Map<string, IngestHandler>();
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(options: { logger: Logger }) {
    this.#logger = options.logger.child({ component: 'rtmp-ingest' });
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.maxConnections = MAX_CONNECTIONS;
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#server.on('error', (error) => this.#logger.error('rtmp ingest listener failed', { error }));
  }

  get port(): number {
    return this.#port;
  }

  /** Publishers with `streamKey` go to `handler` until the returned function unregisters it. */
  register(streamKey: string, handler: IngestHandler): () => void {
    this.#handlers.set(streamKey, handler);
    return () => {
      if (this.#handlers.get(streamKey) === handler) this.#handlers.delete(streamKey);
    };
  }

  close(): void {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    this.#handlers.clear();
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const rtmp = new Rtmp();
    let key: string | undefined;
    let session: RtmpIngestSession | undefined;
    const refuse = (reason: string) => {
      this.#logger.warn('rtmp publisher refused', { remote, reason });
      socket.destroy();
    };
    const deadline = setTimeout(() => refuse('no publish in time'), PUBLISH_WITHIN_MS);
    socket.setTimeout(IDLE_MS, () => refuse('idle'));
    rtmp.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    rtmp.onConnectCallback = (req) => {
      key = req.name;
    };
    rtmp.onPlayCallback = () => refuse('playing is not offered');
    rtmp.onPushCallback = () => {
      clearTimeout(deadline);
      const handler = key === undefined ? undefined : this.#handlers.get(key);
      if (!handler) return refuse('unknown stream key');
      const candidate = new RtmpIngestSession(socket);
      if (!handler(candidate)) return refuse('the stream key has a publisher');
      session = candidate;
      this.#logger.info('rtmp publisher started', { remote });
    };
    rtmp.onPacketCallback = (packet) => session?.packet(packet);
    socket.on('data', (data: Buffer) => {
      // A malformed stream is that connection's end, never the node's.
      let error: string | null;
      try {
        error = rtmp.parserData(data);
      } catch (thrown) {
        error = thrown instanceof Error ? thrown.message : String(thrown);
      }
      if (error) refuse(`malformed rtmp: ${error}`);
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(deadline);
      this.#sockets.delete(socket);
      if (session) this.#logger.info('rtmp publisher ended', { remote });
      session?.end();
    });
  }
}
