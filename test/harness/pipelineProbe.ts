// Helpers of the node-level pipeline tests: a real encoder pushing to an RTMP URL, and a room
// publication recorded for a few seconds and read back with ffprobe.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { promisify } from 'node:util';
import { pipelineHandlers } from '../../media-node/commands/handlers/pipelines.ts';
import { FfmpegProcess } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import type { Pipelines } from '../../media-node/pipelines/Pipelines.ts';
import type { Recorder } from '../../media-node/recording/Recorder.ts';
import { type NodeCommand, NodeCommandSchema } from '../../shared/protocol/commands.ts';

const run = promisify(execFile);

/** The next `event` of `emitter`, or a rejection after `ms`. */
export const next = (emitter: EventEmitter, event: string, ms = 20_000) =>
  once(emitter, event, { signal: AbortSignal.timeout(ms) });

/**
 * An encoder pushing a moving picture and a tone as FLV to `url`, as a camera or OBS would:
 * constrained baseline without B-frames (forwarded as it is), or with `bFrames` High profile
 * with B-frames, OBS's default (re-encoded).
 */
export const rtmpEncoder = (url: string, size = '320x240', { bFrames = false, audio = true } = {}) =>
  new FfmpegProcess({
    args: [
      ...['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`],
      ...(audio ? ['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000', '-c:a', 'aac'] : []),
      ...['-c:v', 'libx264', '-g', '30'],
      ...(bFrames
        ? ['-preset', 'veryfast', '-profile:v', 'high', '-bf', '2']
        : ['-preset', 'ultrafast', '-tune', 'zerolatency']),
      ...['-f', 'flv', url],
    ],
  });

/** A live HLS packager (1 s segments, 6 listed) uploading a moving picture and a tone to an HTTP origin by PUT. */
export const hlsEncoder = (playlistUrl: string) =>
  new FfmpegProcess({
    args: [
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'aac'],
      ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-method', 'PUT', playlistUrl],
    ],
  });

/** Starts a pipeline as the `pipeline.start` command would (parsed by the wire schema first). */
export async function startPipeline(
  pipelines: Pipelines,
  command: Omit<Extract<NodeCommand, { type: 'pipeline.start' }>, 'id' | 'issuedAt' | 'type' | 'params'> & {
    params: Record<string, string | number | boolean>;
  },
): Promise<void> {
  const parsed = NodeCommandSchema.parse({
    id: randomUUID(),
    issuedAt: new Date().toISOString(),
    type: 'pipeline.start',
    ...command,
  });
  await pipelineHandlers(pipelines)['pipeline.start'](
    parsed as Extract<NodeCommand, { type: 'pipeline.start' }>,
  );
}

/** The publication `streamId` recorded for `seconds` as mkv and read back: each stream's codec and decoded frames. */
export async function recordAndProbe(
  pipelines: Pipelines,
  roomId: string,
  streamId: string,
  seconds = 3,
  kinds: 'video+audio' | 'video' = 'video+audio',
): Promise<{ codec_name: string; nb_read_frames: string }[]> {
  const id = `rec-${randomUUID().slice(0, 8)}`;
  await startPipeline(pipelines, {
    roomId,
    pipelineId: id,
    kind: 'record',
    input: { streamId },
    ...(kinds === 'video+audio' ? { with: [{ streamId }] } : {}),
    params: { container: 'mkv', kinds },
  });
  const recorder = pipelines.get(id) as Recorder;
  await next(recorder, 'started');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  recorder.close('stopped');
  const info = await recorder.finished;
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json'],
    info.files[0]!,
  ]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams;
}
