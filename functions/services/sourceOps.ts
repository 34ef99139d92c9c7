import { NotImplementedError, ValidationError } from '../../shared/errors.ts';
import type { StreamingOutPatchOp } from '../../shared/protocol/http/streamingOut.ts';

type Kind = 'audio' | 'video';

export const VIDEO_PARAMETERS = '/media/video/parameters/';

/**
 * OWT's PATCH ops on something made from a room's streams (a streaming-out, a recording):
 * `replace /media/{audio,video}/from` applied to a copy of `media`, each new source looked up by
 * `source` (which throws for one not in the room and returns what changes with it). Video
 * parameters ops are the caller's (a streaming-out re-encodes), or refused (501,
 * `parametersRefusal`: a recording copies). `what` names the thing in errors.
 */
export async function applySourceOps<A extends { from: string }, V extends { from: string }>(
  ops: readonly StreamingOutPatchOp[],
  current: { audio?: A | undefined; video?: V | undefined },
  what: string,
  parametersRefusal: string | undefined,
  source: (from: string, kind: Kind) => Promise<object>,
): Promise<{ audio?: A | undefined; video?: V | undefined }> {
  const media = {
    audio: current.audio && { ...current.audio },
    video: current.video && { ...current.video },
  };
  for (const op of ops) {
    if (op.path.startsWith(VIDEO_PARAMETERS)) {
      if (parametersRefusal === undefined) continue;
      throw new NotImplementedError(`media.video.parameters: ${parametersRefusal}`, { options: [op.path] });
    }
    const kind: Kind = op.path === '/media/audio/from' ? 'audio' : 'video';
    const track = media[kind];
    if (!track)
      throw new ValidationError(`this ${what} has no ${kind}`, [{ path: op.path, message: 'absent' }]);
    Object.assign(track, await source(op.value as string, kind), { from: op.value as string });
  }
  return media;
}
