import type { types } from 'mediasoup-client';

/**
 * Whether packets still arrive on the transports that carry media: media itself on a receiving
 * one; transport-wide congestion feedback and RTCP on a sending one (mediasoup answers a
 * sending client about ten times a second). A media node that died goes quiet on both within a
 * fraction of a second, long before ICE calls the path disconnected, so a publisher notices as
 * soon as its subscribers do.
 */
export class MediaWatch {
  readonly #seen = new WeakMap<types.Transport, { bytes: number; progressAt: number }>();

  /** Samples each transport; the longest time (ms) one of them has gone without a byte. */
  async sample(transports: types.Transport[], now = Date.now()): Promise<number> {
    let longest = 0;
    for (const transport of transports) {
      let bytes = 0;
      try {
        for (const s of (await transport.getStats()).values())
          if (s.type === 'transport') bytes += s.bytesReceived ?? 0;
      } catch {
        continue; // closed meanwhile
      }
      const seen = this.#seen.get(transport);
      if (!seen || bytes > seen.bytes) this.#seen.set(transport, { bytes, progressAt: now });
      else longest = Math.max(longest, now - seen.progressAt);
    }
    return longest;
  }
}
