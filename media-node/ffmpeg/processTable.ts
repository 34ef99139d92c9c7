import { readdirSync, readFileSync } from 'node:fs';

export interface FfmpegProcessEntry {
  pid: number;
  /** Its parent: 1 (init) for one orphaned by its parent's death. */
  ppid: number;
  args: string[];
}

/** The ffmpeg processes running on this machine, from /proc (Linux). */
export function ffmpegProcesses(): FfmpegProcessEntry[] {
  const found: FfmpegProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== 'ffmpeg') continue;
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      found.push({ pid: Number(name), ppid, args });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}
