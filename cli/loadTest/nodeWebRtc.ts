import wrtc from '@roamhq/wrtc';
import * as werift from 'werift';
import { WebSocket } from 'ws';

/**
 * WebRTC in Node for the load tester, installed as the browser globals the SDK and
 * mediasoup-client's 'Chrome111' handler use (and `ws` as the WebSocket Node 20 lacks). Two
 * implementations, one per phase of a run:
 * - publishers: libwebrtc (@roamhq/wrtc, a prebuilt binary from npm), whose encoders react to
 *   the server's congestion control as a browser's do;
 * - subscribers: werift (pure TypeScript), which receives, decrypts and acknowledges RTP as a
 *   browser does but does not decode it: libwebrtc decoding a thousand streams would saturate
 *   the tester long before the server.
 * A peer connection is created with whichever is installed when its transport is made.
 */
export function useLibWebRtc(): void {
  install({
    RTCPeerConnection: wrtc.RTCPeerConnection,
    RTCSessionDescription: wrtc.RTCSessionDescription,
    RTCIceCandidate: wrtc.RTCIceCandidate,
    MediaStream: wrtc.MediaStream,
    MediaStreamTrack: wrtc.MediaStreamTrack,
  });
}

export function useWerift(): void {
  install({
    RTCPeerConnection: werift.RTCPeerConnection,
    RTCSessionDescription: werift.RTCSessionDescription,
    RTCIceCandidate: werift.RTCIceCandidate,
    MediaStream: werift.MediaStream,
    MediaStreamTrack: werift.MediaStreamTrack,
  });
}

function install(globals: Record<string, unknown>): void {
  Object.assign(globalThis, globals);
  (globalThis as Record<string, unknown>).WebSocket ??= WebSocket;
}

export interface SyntheticVideo {
  width: number;
  height: number;
  fps: number;
}

/**
 * Synthetic camera and microphone for simulated publishers: one source of each, shared, with a
 * track per publisher (each sender still encodes on its own). The picture moves every frame so
 * the encoders spend real bits; the audio is a 440 Hz tone.
 */
export class SyntheticMedia {
  readonly #video: InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;
  readonly #audio: InstanceType<typeof wrtc.nonstandard.RTCAudioSource>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #tracks: MediaStreamTrack[] = [];
  #closed = false;

  constructor(video: SyntheticVideo, withAudio: boolean) {
    this.#video = new wrtc.nonstandard.RTCVideoSource();
    this.#audio = new wrtc.nonstandard.RTCAudioSource();
    const { width, height, fps } = video;
    const frame = new Uint8Array(width * height * 1.5);
    let n = 0;
    this.#timers.push(
      setInterval(() => {
        n++;
        // Diagonal bands sliding by 2 px a frame over mid-grey chroma.
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) frame[y * width + x] = ((x + y + 2 * n) & 63) * 4;
        frame.fill(128, width * height);
        this.#video.onFrame({ width, height, data: frame });
      }, 1000 / fps),
    );
    if (withAudio) {
      const samples = new Int16Array(480);
      let t = 0;
      this.#timers.push(
        setInterval(() => {
          for (let i = 0; i < samples.length; i++, t++)
            samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * t) / 48_000));
          this.#audio.onData({ samples, sampleRate: 48_000 });
        }, 10),
      );
    }
  }

  /** A new camera track (and a microphone track when audio is on) for one publisher. */
  stream(withAudio: boolean): MediaStream {
    const tracks = [this.#video.createTrack(), ...(withAudio ? [this.#audio.createTrack()] : [])];
    this.#tracks.push(...tracks);
    return new wrtc.MediaStream(tracks) as unknown as MediaStream;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const track of this.#tracks) track.stop();
  }
}
