import type { StreamPublisher } from './Pipeline.ts';

/**
 * Pipeline outputs as room streams, through the room's public stream API. Today a pipeline's
 * producer joins the room like a stream piped in from another node (`addRemoteStream`); when the
 * room gains `addStream(producer, announcement, origin)`, pass `origin` through here.
 */
export const roomStreamPublisher: StreamPublisher = {
  publish: (room, producer, announcement, _origin) => room.addRemoteStream(producer, announcement),
  unpublish: (room, streamId) => room.removeRemoteStream(streamId),
};
