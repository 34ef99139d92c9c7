import { execFile } from 'node:child_process';
import { resolveFfmpeg } from './resolveFfmpeg.ts';

/** What a media node can run: `sfu` always; pipelines need an ffmpeg with the right encoders. */
export type NodeCapability = 'sfu' | 'mix' | 'stream' | 'record';

/**
 * The encoders each pipeline capability needs. A mixer re-encodes video and audio for WebRTC;
 * streaming out speaks RTMP/HLS (H.264 + AAC); recording writes what it receives (any ffmpeg
 * muxes matroska), so it needs none.
 */
const NEEDS: Record<Exclude<NodeCapability, 'sfu'>, string[][]> = {
  mix: [['libx264', 'libvpx'], ['libopus']],
  stream: [['libx264'], ['aac', 'libfdk_aac']],
  record: [],
};

/** Encoder names listed by `ffmpeg -encoders` (the second column of each entry). */
export function parseEncoders(listing: string): Set<string> {
  const names = new Set<string>();
  for (const line of listing.split('\n')) {
    const m = /^\s[VAS.][F.][S.][X.][B.][D.]\s+(\S+)/.exec(line);
    if (m?.[1] && m[1] !== '=') names.add(m[1]);
  }
  return names;
}

/** The capabilities a set of encoders gives (pure: unit-testable). */
export function capabilitiesFrom(encoders: Set<string> | undefined): NodeCapability[] {
  const out: NodeCapability[] = ['sfu'];
  if (!encoders) return out;
  for (const [cap, needs] of Object.entries(NEEDS) as [NodeCapability, string[][]][]) {
    if (needs.every((anyOf) => anyOf.some((e) => encoders.has(e)))) out.push(cap);
  }
  return out;
}

/** What a node offers: what its ffmpeg can do, at most `allowed` (NODE_CAPABILITIES) when given. */
export async function offeredCapabilities(allowed?: readonly NodeCapability[]): Promise<NodeCapability[]> {
  const probed = await nodeCapabilities();
  return allowed ? probed.filter((c) => allowed.includes(c)) : probed;
}

let probed: Promise<NodeCapability[]> | undefined;
/**
 * This node's capabilities, probed once per process: resolve ffmpeg, list its encoders. A node
 * without a working ffmpeg is an SFU only.
 */
export function nodeCapabilities(ffmpegPath: string | undefined = process.env.FFMPEG_PATH) {
  probed ??= new Promise<NodeCapability[]>((resolve) => {
    let path: string;
    try {
      path = resolveFfmpeg(ffmpegPath).path;
    } catch {
      resolve(capabilitiesFrom(undefined));
      return;
    }
    execFile(path, ['-hide_banner', '-encoders'], { timeout: 10_000, maxBuffer: 4 << 20 }, (error, stdout) =>
      resolve(capabilitiesFrom(error ? undefined : parseEncoders(stdout))),
    );
  });
  return probed;
}
