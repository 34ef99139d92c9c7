import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { PipelineContext, PipelineOutput } from '../pipelines/Pipeline.ts';
import type { RtpOutput } from '../pipelines/RtpBridge.ts';

/** A key frame every second: a participant subscribing late waits at most that (ffmpeg answers no PLI). */
const GOP_SECONDS = 1;
const FRAMERATE = 30;

/**
 * ffmpeg output arguments for media brought into the room (a streaming-in, an RTMP ingest): the
 * input's first video as H.264 constrained baseline (what every browser decodes) and its first
 * audio as opus, each sent as RTP to its producer's port. `copyVideo`: the source's H.264 is
 * forwarded as it is (h264PassThrough said it can be), in Annex B with its SPS and PPS before
 * every key frame, so that a subscriber who joins late can start at the next one.
 */
export function encodeForRoom(
  video: RtpOutput | undefined,
  audio: RtpOutput | undefined,
  { copyVideo = false }: { copyVideo?: boolean } = {},
): string[] {
  const rtp = (out: RtpOutput) => [
    ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-f', 'rtp', out.url],
  ];
  const gop = String(GOP_SECONDS * FRAMERATE);
  return [
    ...(video && copyVideo
      ? [
          ...['-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,dump_extra=freq=keyframe'],
          ...rtp(video),
        ]
      : []),
    ...(video && !copyVideo
      ? [
          ...['-map', '0:v:0', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
          ...['-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-bf', '0', '-threads', '1'],
          ...['-r', String(FRAMERATE), '-g', gop, '-keyint_min', gop, '-b:v', '2000k', '-maxrate', '2000k'],
          ...['-bufsize', '2000k'],
          ...rtp(video),
        ]
      : []),
    ...(audio
      ? [
          ...['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k'],
          ...['-application', 'lowdelay', '-frame_duration', '20'],
          ...rtp(audio),
        ]
      : []),
  ];
}

/**
 * A pipeline's producers made one publication of the room (OWT stream `publication`), owned by
 * `pipeline:<id>`, of the pipeline's origin. Returns them as the pipeline's outputs; a publish
 * that fails calls `failed`.
 */
export function publishAsPublication(
  ctx: PipelineContext,
  pipeline: { id: string; kind: string },
  tracks: { video: RtpOutput | undefined; audio: RtpOutput | undefined },
  publication: string,
  failed: (reason: string) => void,
): PipelineOutput[] {
  const outputs: PipelineOutput[] = [];
  for (const kind of ['video', 'audio'] as const) {
    const out = tracks[kind];
    if (!out) continue;
    const producer = out.producer;
    outputs.push({ streamId: producer.id, kind });
    const announcement: StreamAnnouncement = {
      id: producer.id,
      owner: `pipeline:${pipeline.id}`,
      kind,
      source: kind === 'video' ? 'camera' : 'mic',
      paused: false,
      publication,
    };
    void ctx.publisher
      .publish(ctx.room, producer, announcement, {
        kind: 'pipeline',
        pipelineId: pipeline.id,
        pipelineKind: pipeline.kind,
      })
      .catch((error) => failed(`publishing the ${pipeline.kind} failed: ${String(error)}`));
  }
  return outputs;
}
