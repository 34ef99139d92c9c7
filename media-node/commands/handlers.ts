import type { ConnectionGateway } from '../../shared/ports/gateway.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import type { Cascades } from '../cascade/Cascades.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { NodeSignaling } from '../signaling/NodeSignaling.ts';
import type { SessionKeeper } from '../signaling/SessionKeeper.ts';
import type { CommandHandler } from './CommandProcessor.ts';

type Handlers = { [T in NodeCommand['type']]: (command: Extract<NodeCommand, { type: T }>) => Promise<void> };

/** What a media node does for each command type, keyed by type. */
export function nodeCommandHandlers(
  rooms: RoomRegistry,
  signaling: NodeSignaling,
  gateway: ConnectionGateway,
  cascades: Cascades | undefined,
  sessions: SessionKeeper,
): CommandHandler {
  // Commands from the room's other nodes; a node with no cascade (embedded) ignores them.
  const cascade = async (c: Parameters<Cascades['handle']>[0]) => {
    await cascades?.handle(c);
  };
  const handlers: Handlers = {
    signal: (c) => signaling.handle(c),

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
      const room = rooms.get(c.roomId);
      const peer = room?.peer(c.participantId);
      if (!room || !peer) return;
      await room.send(peer, { event: 'drop', data: { reason: 'dropped by the room owner' } });
      room.leave(c.participantId);
      await gateway.disconnect(peer.connectionId).catch(() => {});
    },

    async 'participant.permission'(c) {
      const peer = rooms.get(c.roomId)?.peer(c.participantId);
      if (!peer) return;
      peer.info.permission = c.permission;
      // What the new permission no longer allows stops now.
      for (const [id, { producer }] of peer.producers) {
        if (!peer.mayPublish(producer.kind)) rooms.get(c.roomId)?.unpublish(peer, id);
      }
      // Data channels need some publish permission (see Room.publishData).
      if (!peer.mayPublishAny())
        for (const id of [...peer.dataProducers.keys()]) rooms.get(c.roomId)?.unpublish(peer, id);
      for (const consumer of peer.consumers.values()) if (!peer.maySubscribe(consumer.kind)) consumer.close();
    },

    // A stream id is a publication's (all its tracks) or a track's own.
    async 'stream.control'(c) {
      const room = rooms.get(c.roomId);
      if (!room) return;
      for (const op of c.ops) {
        if (op.path === '/media/audio/status' || op.path === '/media/video/status') {
          const kind = op.path === '/media/audio/status' ? 'audio' : 'video';
          for (const t of room.producersOf(c.streamId))
            if (t.peer && t.announcement.kind === kind)
              await room.setProducerPaused(t.peer, t.announcement.id, op.value === 'inactive');
        }
        // View membership and layout take effect in the mixer (MCU), which is not on this node yet.
      }
    },

    async 'stream.remove'(c) {
      const room = rooms.get(c.roomId);
      for (const t of room?.producersOf(c.streamId) ?? [])
        if (t.peer) room!.unpublish(t.peer, t.announcement.id);
    },

    'pipe.open': cascade,
    'pipe.opened': cascade,
    'pipe.produce': cascade,
    'pipe.close': cascade,
    'pipe.request': cascade,
    'pipe.leave': cascade,
    'room.relay': cascade,
    'room.text': cascade,

    async 'room.close'(c) {
      const room = rooms.get(c.roomId);
      if (!room) return;
      // Told and then cut off: a client that ignores the drop event keeps no socket into the room.
      const connections = [...room.peers.values()].map((p) => p.connectionId);
      room.close('room deleted');
      await Promise.all(connections.map((id) => gateway.disconnect(id).catch(() => {})));
    },
  };
  return (command) => (handlers[command.type] as (c: NodeCommand) => Promise<void>)(command);
}
