import type { StreamPublisher } from './Pipeline.ts';

/** Pipeline outputs as room streams with a `pipeline` origin (recorded, piped onwards like any). */
export const roomStreamPublisher: StreamPublisher = {
  publish: (room, producer, announcement, origin) =>
    room.addStream(producer, announcement, {
      kind: 'pipeline',
      pipelineId: origin.pipelineId,
      pipelineKind: origin.pipelineKind,
    }),
  unpublish: (room, streamId) => room.withdrawStream(streamId),
};
