import { ValidationError } from '../../../shared/errors.ts';
import type { NodeCommand } from '../../../shared/protocol/commands.ts';
import type { Pipelines } from '../../pipelines/Pipelines.ts';

type Handler<T extends NodeCommand['type']> = (command: Extract<NodeCommand, { type: T }>) => Promise<void>;

/**
 * pipeline.start / pipeline.stop / pipeline.switch. A start registers the pipeline and returns at once: ffmpeg
 * starts in the background (the room's other commands must not wait seconds for it), and how it
 * went is the pipeline's started/failed events. A request that cannot run (unknown kind or room,
 * a limit, bad params) throws here, logged by the command processor with its code.
 */
export function pipelineHandlers(pipelines: Pipelines | undefined): {
  'pipeline.start': Handler<'pipeline.start'>;
  'pipeline.stop': Handler<'pipeline.stop'>;
  'pipeline.switch': Handler<'pipeline.switch'>;
} {
  return {
    async 'pipeline.start'(c) {
      if (!pipelines)
        throw new ValidationError('this node runs no pipelines', [{ path: 'type', message: c.type }]);
      // A streaming-in or a push ingest may be the first thing in a room nobody has joined yet.
      await pipelines.startInRoom({
        id: c.pipelineId,
        kind: c.kind,
        roomId: c.roomId,
        inputs: [...(c.input ? [c.input.streamId] : []), ...(c.with ?? []).map((i) => i.streamId)],
        params: {
          ...c.params,
          ...(c.output ? { url: c.output.url } : {}),
          ...(c.source ? { url: c.source.url } : {}),
        },
      });
    },

    async 'pipeline.stop'(c) {
      pipelines?.stop(c.pipelineId, c.roomId);
    },

    /** Awaited: a stream that is not there is the command's error, and the output runs on as it was. */
    async 'pipeline.switch'(c) {
      if (!pipelines)
        throw new ValidationError('this node runs no pipelines', [{ path: 'type', message: c.type }]);
      await pipelines.switchInputs(
        c.pipelineId,
        c.roomId,
        c.inputs.map((i) => i.streamId),
        c.params,
      );
    },
  };
}
