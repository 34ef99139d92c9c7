/**
 * `-vf` filters for a picture of exactly `width`×`height` (scaled to fit, then letterboxed, as a
 * viewer who asked for a size expects), or the source's own size made even (encoders need it).
 */
export function exactSizeFilters(width?: number | null, height?: number | null): string[] {
  return width && height
    ? [
        `scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2`,
        `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
      ]
    : ['scale=trunc(iw/2)*2:trunc(ih/2)*2'];
}

/** The video codecs Tessera's ffmpeg pipelines encode (mixers, transcoders). */
export type EncodedVideoCodec = 'h264' | 'vp8' | 'vp9';

/**
 * ffmpeg's encoder arguments for live video at `kbps`: H.264 constrained baseline (x264
 * ultrafast, zero latency, no B-frames), VP8 and VP9 realtime with error resilience and no
 * lagged frames. One thread each: a node runs many encoders on few cores (research/mcu-baseline.md).
 */
export function videoEncoderArgs(codec: EncodedVideoCodec, kbps: number): string[] {
  const rate = `${Math.round(kbps)}k`;
  const encoder =
    codec === 'h264'
      ? [
          ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
          ...['-bf', '0'],
        ]
      : codec === 'vp8'
        ? // cpu-used 16: VP8 at lower settings collapsed under contention (research/mcu-baseline.md §1).
          ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16', '-lag-in-frames', '0']
        : [
            ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1'],
            ...['-lag-in-frames', '0', '-strict', 'experimental'],
          ];
  return [
    ...encoder,
    ...(codec === 'h264' ? [] : ['-error-resilient', '1', '-auto-alt-ref', '0']),
    ...['-pix_fmt', 'yuv420p', '-threads', '1', '-b:v', rate, '-maxrate', rate, '-bufsize', rate],
  ];
}
