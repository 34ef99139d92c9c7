import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import type { BlobInfo, BlobStore } from '../../shared/ports/blobs.ts';
import type { EventSink } from '../../shared/ports/events.ts';
import { newEvent } from '../../shared/protocol/events.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import { ffmpegProcesses } from '../ffmpeg/processTable.ts';
import { resolveFfmpeg } from '../ffmpeg/resolveFfmpeg.ts';

const run = promisify(execFile);

/**
 * What a running recording leaves beside its part files: enough for the node's next life to
 * settle it when this one dies mid-recording (SIGKILL, a crash, the machine lost).
 */
const SidecarSchema = z.strictObject({
  id: z.string().min(1).max(64),
  roomId: z.string().min(1).max(200),
  container: z.enum(['mkv', 'mp4', 'webm']),
  contentType: z.string().max(64),
});
export type RecordingSidecar = z.infer<typeof SidecarSchema>;

const SUFFIX = '.recording.json';
const sidecarPath = (dir: string, id: string) => join(dir, `${id}${SUFFIX}`);

export function writeSidecar(dir: string, sidecar: RecordingSidecar): void {
  writeFileSync(sidecarPath(dir, sidecar.id), JSON.stringify(sidecar));
}

export function removeSidecar(dir: string, id: string): void {
  rmSync(sidecarPath(dir, id), { force: true });
}

/** A writer that outlived its node (an orphaned ffmpeg) gets this long to stop growing the file. */
const QUIET_MS = 1500;
const MAX_WAIT_MS = 10_000;

/**
 * At a node's start, before it takes commands: the recordings its previous life left running.
 * Their ffmpeg wrote matroska clusters and mp4 fragments every second, so each part file plays
 * up to its last second; each is stored (S3 uploads it) and `recording.failed` settles the
 * record with what was saved. Returns how many recordings it settled.
 */
export async function recoverRecordings(o: {
  dir: string;
  blobs: BlobStore | undefined;
  events: EventSink | undefined;
  nodeId: string;
  logger: Logger;
}): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(o.dir);
  } catch {
    return 0; // nothing recorded here yet
  }
  let settled = 0;
  for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
    const parsed = SidecarSchema.safeParse(readJson(join(o.dir, name)));
    if (!parsed.success) {
      o.logger.warn('unreadable recording sidecar left alone', { file: name });
      continue;
    }
    const sidecar = parsed.data;
    try {
      await recoverOne(o, sidecar, names);
      settled++;
    } catch (error) {
      o.logger.warn('recording left by a stopped node not recovered', {
        id: sidecar.id,
        error: String(error),
      });
    }
  }
  return settled;
}

async function recoverOne(
  o: Parameters<typeof recoverRecordings>[0],
  sidecar: RecordingSidecar,
  names: string[],
): Promise<void> {
  const part = new RegExp(`^${sidecar.id}(?:\\.(\\d+))?\\.${sidecar.container}$`);
  const parts = names
    .flatMap((n) => {
      const m = part.exec(n);
      return m ? [{ file: join(o.dir, n), n: Number(m[1] ?? 0) }] : [];
    })
    .sort((a, b) => a.n - b.n)
    .map((p) => p.file);
  // Its ffmpeg outlived the node (orphaned, waiting for RTP that never comes): ended first.
  await endOrphans(join(o.dir, sidecar.id));
  await quiet(parts);
  const stored: BlobInfo[] = [];
  let durationMs = 0;
  let bytes = 0;
  for (const file of parts) {
    const size = statSync(file).size;
    if (size === 0) continue;
    durationMs += await lastTimestampMs(file);
    bytes += size;
    if (!o.blobs) continue;
    const blob = await o.blobs.putFile(file.slice(o.dir.length + 1), file, sidecar.contentType);
    stored.push(blob);
    if (blob.location !== file) rmSync(file, { force: true });
  }
  const { serviceId, roomId } = parseRoomKey(sidecar.roomId);
  await o.events?.publish([
    newEvent('recording.failed', {
      serviceId,
      roomId,
      nodeId: o.nodeId,
      data: {
        recording: {
          id: sidecar.id,
          container: sidecar.container,
          bytes,
          durationMs,
          files: stored.slice(0, 100).map(({ key, bytes, location }) => ({ key, bytes, location })),
          reason: `the media node stopped mid-recording; ${parts.length} part(s) recovered when it restarted`,
        },
      },
    }),
  ]);
  removeSidecar(o.dir, sidecar.id);
  o.logger.info('recording left by a stopped node recovered', { id: sidecar.id, parts: parts.length, bytes });
}

/**
 * Ends ffmpeg processes orphaned by the node's death (adopted by init) that write `prefix`…:
 * SIGINT first (matroska and mp4 get their last cluster or fragment), SIGKILL if still there.
 */
async function endOrphans(prefix: string): Promise<void> {
  const orphans = ffmpegProcesses()
    .filter((p) => p.ppid === 1 && p.args.some((a) => a.startsWith(prefix)))
    .map((p) => p.pid);
  const signal = (pid: number, sig: NodeJS.Signals | 0) => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of orphans) signal(pid, 'SIGINT');
  for (let i = 0; i < 20 && orphans.some((pid) => signal(pid, 0)); i++)
    await new Promise((r) => setTimeout(r, 100));
  for (const pid of orphans) signal(pid, 'SIGKILL');
}

/** Waits until no part grows any more (an orphaned ffmpeg may still be finishing). */
async function quiet(files: string[]): Promise<void> {
  const sizes = () => files.map((f) => statSync(f, { throwIfNoEntry: false })?.size ?? 0).join(',');
  const deadline = Date.now() + MAX_WAIT_MS;
  for (let last = sizes(); Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const now = sizes();
    if (now === last) return;
    last = now;
  }
}

/** How far a file that may have no trailer plays: ffmpeg reads its packets through (a copy to nowhere). */
async function lastTimestampMs(file: string): Promise<number> {
  const { stderr } = await run(
    resolveFfmpeg().path,
    ['-hide_banner', '-nostdin', '-i', file, '-map', '0', '-c', 'copy', '-f', 'null', '-'],
    { maxBuffer: 8 << 20, timeout: 30_000 },
  );
  const times = [...stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  const last = times.at(-1);
  return last ? Math.round((Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3])) * 1000) : 0;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
