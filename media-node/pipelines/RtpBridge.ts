import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import { sdpForRtpReceiver } from '../ffmpeg/sdp.ts';
import { freeUdpPortPair } from './ports.ts';

const LOOPBACK = '127.0.0.1';

/** A room stream flowing into ffmpeg: ffmpeg reads `sdp` and listens on `port` (RTCP on port + 1). */
export interface RtpInput {
  streamId: string;
  kind: types.MediaKind;
  consumer: types.Consumer;
  /** The SDP file ffmpeg opens (`-protocol_whitelist file,udp,rtp -i <file>`). */
  sdp: string;
  port: number;
}

/** An ffmpeg RTP output produced into the router: ffmpeg sends to `url`, from fixed local ports. */
export interface RtpOutput {
  producer: types.Producer;
  payloadType: number;
  ssrc: number;
  /** ffmpeg's output URL, e.g. `-f rtp -payload_type <pt> -ssrc <ssrc> <url>`. */
  url: string;
}

/** The codecs a pipeline may produce (the router offers them all; browsers decode them). */
export const OUTPUT_CODECS = {
  h264: {
    mimeType: 'video/H264',
    payloadType: 102,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
  },
  /** Main profile: only forwarded unchanged (a streaming-in's source without B-frames). */
  h264main: {
    mimeType: 'video/H264',
    payloadType: 102,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '4d001f' },
  },
  vp8: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
  vp9: { mimeType: 'video/VP9', payloadType: 103, clockRate: 90000, parameters: { 'profile-id': 0 } },
  opus: { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 },
  // The static payload types of RFC 3551 (what SIP phones expect). G.722 samples at 16 kHz but
  // its RTP clock runs at 8 kHz, a historical error of RFC 1890 kept since.
  pcmu: { mimeType: 'audio/PCMU', payloadType: 0, clockRate: 8000, channels: 1 },
  pcma: { mimeType: 'audio/PCMA', payloadType: 8, clockRate: 8000, channels: 1 },
  g722: { mimeType: 'audio/G722', payloadType: 9, clockRate: 8000, channels: 1 },
} satisfies Record<string, types.RtpCodecParameters>;
export type OutputCodec = keyof typeof OUTPUT_CODECS;

/**
 * The router ↔ ffmpeg plumbing of one pipeline: a PlainTransport per input (mediasoup sends the
 * consumer's RTP to the ports ffmpeg listens on, described by a receive SDP) and per output
 * (ffmpeg sends RTP with a known SSRC and payload type, produced into the router). Every port is
 * on 127.0.0.1. The transports outlive ffmpeg restarts: ffmpeg listens on, and sends from, the
 * same ports each run, so consumers and producers (and the room's stream ids) stay. close()
 * closes them all; idempotent.
 */
export class RtpBridge {
  readonly #router: types.Router;
  readonly #transports: types.PlainTransport[] = [];
  readonly #inputs: RtpInput[] = [];
  readonly #inputTransports = new WeakMap<RtpInput, types.PlainTransport>();
  #closed = false;

  constructor(router: types.Router) {
    this.#router = router;
  }

  get inputs(): readonly RtpInput[] {
    return this.#inputs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Consumes `producerId` (a stream on this router) towards ffmpeg; paused until resume(). */
  async input(producerId: string): Promise<RtpInput> {
    // rtcpMux off: ffmpeg's RTP demuxer listens for RTCP on port + 1.
    const transport = await this.#track(
      this.#router.createPlainTransport({ listenIp: LOOPBACK, rtcpMux: false, comedia: false }),
    );
    const port = await freeUdpPortPair();
    await transport.connect({ ip: LOOPBACK, port, rtcpPort: port + 1 });
    const consumer = await transport.consume({
      producerId,
      rtpCapabilities: this.#router.rtpCapabilities,
      paused: true,
    });
    const input: RtpInput = {
      streamId: producerId,
      kind: consumer.kind,
      consumer,
      port,
      sdp: sdpForRtpReceiver({
        rtpParameters: consumer.rtpParameters,
        kind: consumer.kind,
        address: LOOPBACK,
        port,
        name: `tessera ${producerId}`,
      }),
    };
    this.#inputs.push(input);
    this.#inputTransports.set(input, transport);
    return input;
  }

  /** Stops one input (its consumer and transport); the others keep flowing. */
  closeInput(input: RtpInput): void {
    const i = this.#inputs.indexOf(input);
    if (i >= 0) this.#inputs.splice(i, 1);
    this.#inputTransports.get(input)?.close();
  }

  /**
   * A producer fed by ffmpeg. mediasoup accepts RTP only from the connected tuple, so ffmpeg
   * sends from fixed local ports (`localrtpport`): a restarted ffmpeg is accepted too.
   */
  async output(kind: types.MediaKind, codec: OutputCodec, appData: Record<string, unknown> = {}) {
    const transport = await this.#track(
      this.#router.createPlainTransport({ listenIp: LOOPBACK, rtcpMux: false, comedia: false }),
    );
    const local = await freeUdpPortPair();
    await transport.connect({ ip: LOOPBACK, port: local, rtcpPort: local + 1 });
    const ssrc = randomInt(1_000_000, 0x7fffffff);
    const parameters = OUTPUT_CODECS[codec];
    const producer = await transport.produce({
      kind,
      rtpParameters: { codecs: [parameters], encodings: [{ ssrc }] },
      appData,
    });
    const remote = transport.tuple.localPort;
    const remoteRtcp = transport.rtcpTuple?.localPort ?? remote + 1;
    const output: RtpOutput = {
      producer,
      payloadType: parameters.payloadType,
      ssrc,
      url: `rtp://${LOOPBACK}:${remote}?rtcpport=${remoteRtcp}&localrtpport=${local}&localrtcpport=${local + 1}&pkt_size=1200`,
    };
    return output;
  }

  /** Asks every video input's sender for a key frame (a decoder starting needs one). */
  async requestKeyFrames(): Promise<void> {
    await Promise.all(
      this.#inputs
        .filter((i) => i.kind === 'video' && !i.consumer.closed)
        .map((i) => i.consumer.requestKeyFrame().catch(() => {})),
    );
  }

  /**
   * Key frames asked for until the returned function is called (the ffmpeg starting has its
   * first frame): after 300 ms (ffmpeg bound its ports; a PLI before is lost), then every `everyMs`.
   */
  requestKeyFramesUntil(everyMs: number): () => void {
    const ask = () => void this.requestKeyFrames();
    const first = setTimeout(ask, 300);
    const again = setInterval(ask, everyMs);
    first.unref();
    again.unref();
    return () => {
      clearTimeout(first);
      clearInterval(again);
    };
  }

  async resumeInputs(): Promise<void> {
    await Promise.all(this.#inputs.map((i) => (i.consumer.closed ? undefined : i.consumer.resume())));
  }

  async #track(creating: Promise<types.PlainTransport>): Promise<types.PlainTransport> {
    const transport = await creating;
    this.#transports.push(transport);
    // Closed meanwhile (the pipeline stopped during an await): nothing may outlive it.
    if (this.#closed) transport.close();
    return transport;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#transports) t.close();
  }
}
