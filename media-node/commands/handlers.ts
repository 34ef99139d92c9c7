import { ValidationError } from '../../shared/errors.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import type { Cascades } from '../cascade/Cascades.ts';
import type { ViewMixers } from '../mcu/ViewMixers.ts';
import type { Pipelines } from '../pipelines/Pipelines.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { NodeSignaling } from '../signaling/NodeSignaling.ts';
import type { SessionKeeper } from '../signaling/SessionKeeper.ts';
import type { HttpMediaSessions } from '../whip/HttpMediaSessions.ts';
import type { CommandHandler } from './CommandProcessor.ts';
import { pipelineHandlers } from './handlers/pipelines.ts';

type Handlers = { [T in NodeCommand['type']]: (command: Extract<NodeCommand, { type: T }>) => Promise<void> };

/** What a media node does for each command type, keyed by type. */
export function nodeCommandHandlers(
  rooms: RoomRegistry,
  signaling: NodeSignaling,
  cascades: Cascades | undefined,
  sessions: SessionKeeper,
  pipelines?: Pipelines,
  mixers?: ViewMixers,
  whip?: HttpMediaSessions,
): CommandHandler {
  // Commands from the room's other nodes; a node with no cascade (embedded) ignores them.
  const cascade = async (c: Parameters<Cascades['handle']>[0]) => {
    await cascades?.handle(c);
  };
  const handlers: Handlers = {
    signal: (c) => signaling.handle(c),

    // Answered to Replies (the function waits there); a node without them takes no WHIP.
    async 'whip.offer'(c) {
      if (!whip)
        throw new ValidationError('this node takes no WHIP offers', [{ path: 'type', message: c.type }]);
      await whip.offer(c);
    },
    async 'whep.offer'(c) {
      if (!whip)
        throw new ValidationError('this node takes no WHEP offers', [{ path: 'type', message: c.type }]);
      await whip.play(c);
    },

    async 'connection.closed'(c) {
      const room = rooms.get(c.roomId);
      const peer = room?.peer(c.participantId);
      // The peer's own socket: kept for the grace period (a resume takes it over), then gone.
      if (peer?.connectionId === c.connectionId) return sessions.suspend(c.roomId, peer, c.graceMs ?? 0);
      // Closed before its login got here (the queue may reorder them): refuse that login.
      signaling.closedBeforeLogin(c.connectionId);
      // No peer at all (it never logged in, or left): the participant departs now. A peer on a
      // newer connection (a resume or a reconnect) is that connection's. A connection with a
      // session may have moved it elsewhere (or it was this node's earlier life): not ours to end.
      if (!peer && !c.session) await sessions.depart(c.roomId, c.participantId);
    },

    async 'participant.drop'(c) {
      await rooms.get(c.roomId)?.drop(c.participantId, 'dropped by the room owner');
    },

    async 'participant.permission'(c) {
      rooms.get(c.roomId)?.setPermission(c.participantId, c.permission);
    },

    // A stream id is a publication's (all its tracks) or a track's own.
    async 'stream.control'(c) {
      const room = rooms.get(c.roomId);
      for (const op of c.ops) {
        if (op.path === '/media/audio/status' || op.path === '/media/video/status')
          await room?.pauseStream(
            c.streamId,
            op.path === '/media/audio/status' ? 'audio' : 'video',
            op.value === 'inactive',
          );
        // View membership and layout act on the view's mixer: on the room's mixing node only
        // (the others have no views). A layout it cannot apply is logged there, not retried.
        else if (op.path === '/info/inViews' || op.path.startsWith('/info/layout'))
          mixers?.control(c.roomId, c.streamId, op);
      }
    },

    async 'stream.remove'(c) {
      rooms.get(c.roomId)?.removeStream(c.streamId);
    },

    'pipe.open': cascade,
    'pipe.opened': cascade,
    'pipe.produce': cascade,
    'pipe.close': cascade,
    'pipe.request': cascade,
    'pipe.leave': cascade,
    'room.relay': cascade,
    'room.text': cascade,

    ...pipelineHandlers(pipelines),

    // Registers the views and returns: the mixers start (ffmpeg and all) in the background.
    async 'views.configure'(c) {
      mixers?.configure(c.roomId, c.views, c.mixing ?? true);
    },

    async 'room.close'(c) {
      await rooms.get(c.roomId)?.end('room deleted');
    },
  };
  return (command) => (handlers[command.type] as (c: NodeCommand) => Promise<void>)(command);
}
