import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist, Segment } from 'hls-parser/types.js';
import {
  type GuardedGetOptions,
  type GuardedResponse,
  guardedGet,
  UrlRefusedError,
} from '../../shared/net/guardedGet.ts';

const PLAYLIST_BYTES = 1024 * 1024;
const SEGMENT_BYTES = 64 * 1024 * 1024;
/** A live pull starts this many segments from the end (players' usual distance to the live edge). */
const LIVE_START_SEGMENTS = 3;
/** Variants above this height are passed over for the best one at or below it (the room re-encodes). */
const MAX_VARIANT_HEIGHT = 1080;

export interface HlsFeedOptions {
  url: string;
  /** Where the segments go, in order: an ffmpeg's stdin reading `-i pipe:0`. */
  out: Writable;
  allowPrivate: boolean;
  /** Each playlist and segment request's whole-exchange limit. */
  timeoutMs?: number;
  /** Name resolution (tests give their own). */
  lookup?: GuardedGetOptions['lookup'];
}

type Events = {
  /** The pull stopped: `permanent` when retrying cannot help (a refused address, encryption). */
  error: [Error & { permanent?: boolean }];
  /** A VOD playlist (EXT-X-ENDLIST) was written to its end. */
  end: [];
};

/**
 * An HLS source pulled through the node's own guarded HTTP client and handed to ffmpeg as one
 * byte stream (MPEG-TS segments concatenate; fMP4 ones follow their init section): ffmpeg's HLS
 * demuxer would fetch whatever URLs a playlist names, which a URL check on the playlist alone
 * cannot police. Follows a master playlist to its best variant up to 1080p, starts a live
 * playlist 3 segments from its end, reloads as RFC 8216 §6.3.4 says (a target duration after a
 * change, half of one otherwise), and writes each new segment once, in media-sequence order,
 * with backpressure. close() is idempotent.
 */
export class HlsFeed extends EventEmitter<Events> {
  readonly #o: HlsFeedOptions;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The last media sequence number written. */
  #written: number | undefined;
  #initUri: string | undefined;
  #segments = 0;

  constructor(options: HlsFeedOptions) {
    super();
    this.#o = options;
    void this.#run().catch((error: unknown) => {
      if (this.#closed) return;
      const failure = error instanceof Error ? error : new Error(String(error));
      this.close();
      const permanent = failure instanceof UrlRefusedError || failure instanceof UnsupportedSourceError;
      this.emit('error', Object.assign(failure, { permanent }));
    });
  }

  /** Segments written so far. */
  get segments(): number {
    return this.#segments;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #get(url: string, maxBytes: number): Promise<GuardedResponse> {
    const { allowPrivate, timeoutMs = 10_000, lookup } = this.#o;
    return guardedGet(url, { allowPrivate, maxBytes, timeoutMs, ...(lookup ? { lookup } : {}) });
  }

  async #playlist(url: string): Promise<{ playlist: MasterPlaylist | MediaPlaylist; url: string }> {
    const response = await this.#get(url, PLAYLIST_BYTES);
    const text = response.body.toString('utf8');
    if (!text.startsWith('#EXTM3U')) throw new Error('not an HLS playlist');
    return { playlist: HLS.parse(text), url: response.url };
  }

  async #run(): Promise<void> {
    let { playlist, url } = await this.#playlist(this.#o.url);
    if (playlist.isMasterPlaylist) {
      const variant = bestVariant(playlist);
      if (!variant) throw new Error('the master playlist names no variant');
      ({ playlist, url } = await this.#playlist(new URL(variant.uri, url).toString()));
      if (playlist.isMasterPlaylist) throw new Error('a variant is a master playlist');
    }
    for (;;) {
      const media = playlist as MediaPlaylist;
      const wrote = await this.#writeNew(media, url);
      if (this.#closed) return;
      if (media.endlist) {
        this.#o.out.end();
        this.emit('end');
        return;
      }
      const target = Math.max(1, media.targetDuration) * 1000;
      await new Promise<void>((resolve) => {
        this.#timer = setTimeout(resolve, wrote ? target : target / 2);
      });
      if (this.#closed) return;
      ({ playlist, url } = await this.#playlist(url));
      if (playlist.isMasterPlaylist) throw new Error('the media playlist became a master playlist');
    }
  }

  /** Writes the segments not written yet; whether there were any. */
  async #writeNew(media: MediaPlaylist, base: string): Promise<boolean> {
    const { segments } = media;
    const from =
      this.#written === undefined
        ? media.endlist
          ? 0
          : Math.max(0, segments.length - LIVE_START_SEGMENTS)
        : segments.findIndex((s) => s.mediaSequenceNumber > this.#written!);
    if (from < 0) return false;
    for (const segment of segments.slice(from)) {
      if (this.#closed) return true;
      checkSupported(segment);
      if (segment.map && segment.map.uri !== this.#initUri) {
        await this.#write((await this.#get(new URL(segment.map.uri, base).toString(), SEGMENT_BYTES)).body);
        this.#initUri = segment.map.uri;
      }
      const { body } = await this.#get(new URL(segment.uri, base).toString(), SEGMENT_BYTES);
      await this.#write(body);
      this.#written = segment.mediaSequenceNumber;
      this.#segments++;
    }
    return true;
  }

  async #write(bytes: Buffer): Promise<void> {
    const { out } = this.#o;
    if (this.#closed || out.destroyed || out.writableEnded) {
      this.close();
      return;
    }
    if (out.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  }
}

/** The highest bandwidth at or below 1080p (or the lowest bandwidth when every one is above). */
function bestVariant(master: MasterPlaylist) {
  const fits = master.variants.filter((v) => !v.resolution || v.resolution.height <= MAX_VARIANT_HEIGHT);
  const byBandwidth = (a: { bandwidth: number }, b: { bandwidth: number }) => b.bandwidth - a.bandwidth;
  return fits.length > 0 ? fits.sort(byBandwidth)[0] : [...master.variants].sort(byBandwidth).at(-1);
}

/** What this feed does not pull (retrying will not help). */
class UnsupportedSourceError extends Error {
  override readonly name = 'UnsupportedSourceError';
}

function checkSupported(segment: Segment): void {
  if (segment.key && segment.key.method !== 'NONE')
    throw new UnsupportedSourceError(`encrypted HLS (${segment.key.method}) is not pulled`);
  if (segment.byterange || segment.map?.byterange)
    throw new UnsupportedSourceError('HLS byte-range segments are not pulled');
}
