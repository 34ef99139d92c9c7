import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { ffmpeg } from '../ffmpeg/resolveFfmpeg.ts';
import type { OutputCodec } from '../pipelines/RtpBridge.ts';

/** What the source's first H.264 SPS says (ffmpeg's trace_headers), or nothing for other codecs. */
export interface H264Headers {
  profileIdc: number;
  picOrderCntType: number;
}

/**
 * The producer codec an H.264 source can be forwarded as, unchanged, or undefined when it must
 * be re-encoded: Baseline as constrained baseline (42e01f), and Main only when its picture order
 * follows its decode order (pic_order_cnt_type 2: no B-frames, which WebRTC decoders do not
 * reorder) as 4d001f. High and anything with B-frames is re-encoded: the room offers no High
 * profile, and a declared profile must be one its subscribers negotiated.
 */
export function passThroughCodec(headers: H264Headers | undefined): OutputCodec | undefined {
  if (!headers) return undefined;
  if (headers.profileIdc === 66) return 'h264';
  if (headers.profileIdc === 77 && headers.picOrderCntType === 2) return 'h264main';
  return undefined;
}

/** The fields of trace_headers' first SPS in ffmpeg's stderr. */
export function parseSpsTrace(stderr: string): H264Headers | undefined {
  const field = (name: string) => stderr.match(new RegExp(`\\b${name}\\s+[01]+ = (\\d+)`))?.[1];
  const profile = field('profile_idc');
  const poc = field('pic_order_cnt_type');
  if (profile === undefined || poc === undefined) return undefined;
  return { profileIdc: Number(profile), picOrderCntType: Number(poc) };
}

/**
 * Reads the source's first video frame with `-c copy` and traces its SPS: undefined when the
 * source's video is not H.264, does not answer within `timeoutMs`, or fails (a source not up yet:
 * the caller re-encodes, which works for anything). `input` are ffmpeg's input options and `-i`.
 */
export function probeH264(
  input: string[],
  timeoutMs = 8000,
  /** For `-i pipe:0`: writes the source into ffmpeg's stdin, and returns how to stop. */
  feed?: (stdin: Writable) => () => void,
): Promise<H264Headers | undefined> {
  return new Promise((resolve) => {
    const child = spawn(
      ffmpeg().path,
      [
        ...['-hide_banner', '-loglevel', 'info', ...(feed ? [] : ['-nostdin']), ...input],
        ...['-map', '0:v:0', '-c', 'copy', '-bsf:v', 'trace_headers', '-frames:v', '1', '-f', 'null', '-'],
      ],
      { stdio: [feed ? 'pipe' : 'ignore', 'ignore', 'pipe'] },
    );
    child.stdin?.on('error', () => undefined);
    const stopFeed = feed && child.stdin ? feed(child.stdin) : undefined;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 256 * 1024) stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => undefined);
    child.on('close', () => {
      clearTimeout(timer);
      stopFeed?.();
      resolve(/Video: h264/.test(stderr) ? parseSpsTrace(stderr) : undefined);
    });
  });
}
