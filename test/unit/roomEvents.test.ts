import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RoomEvents } from '../../media-node/events/RoomEvents.ts';
import type { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { createLogger } from '../../shared/logger.ts';
import type { TesseraEvent } from '../../shared/protocol/events.ts';

const logger = createLogger({ level: 'error', write: () => {} });
const info = (id: string) => ({ info: { id, user: `u-${id}`, role: 'presenter', permission: {} } });
const stream = (id: string, owner: string) => ({
  id,
  owner,
  kind: 'audio' as const,
  source: 'mic',
  paused: false,
});
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

/** The registry and room as RoomEvents sees them: emitters (the media objects are tested elsewhere). */
function setup(sink: { publish(events: TesseraEvent[]): Promise<void> }, maxBuffered?: number) {
  const rooms = new EventEmitter();
  const events = new RoomEvents({
    nodeId: 'n1',
    rooms: rooms as unknown as RoomRegistry,
    sink,
    logger,
    retryMs: 20,
    ...(maxBuffered ? { maxBuffered } : {}),
  });
  const room = Object.assign(new EventEmitter(), { id: 'svc/standup' });
  return { rooms, room, events };
}

describe('RoomEvents', () => {
  it('turns a room life into events with the service and room split, closing out what is left', async () => {
    const got: TesseraEvent[] = [];
    const { rooms, room, events } = setup({ publish: async (e) => void got.push(...e) });
    rooms.emit('roomcreated', room);
    room.emit('peerjoined', info('a'));
    room.emit('peerjoined', info('b'));
    room.emit('streamadded', stream('s1', 'a'));
    room.emit('streamadded', stream('s2', 'b'));
    room.emit('streamremoved', 's1');
    room.emit('peerleft', info('a'));
    room.emit('streamremoved', 'unknown');
    room.emit('close');
    await until(() => got.some((e) => e.type === 'room.finished'));
    await events.close();
    expect(
      got.map(
        (e) =>
          `${e.type}${'participant' in e.data ? `:${e.data.participant.id}` : ''}${'stream' in e.data ? `:${e.data.stream.id}` : ''}`,
      ),
    ).toEqual([
      'node.started',
      'room.started',
      'participant.joined:a',
      'participant.joined:b',
      'stream.added:s1',
      'stream.added:s2',
      'stream.removed:s1',
      'participant.left:a',
      'stream.removed:s2',
      'participant.left:b',
      'room.finished',
      'node.stopped',
    ]);
    expect(got[1]).toMatchObject({ v: 1, serviceId: 'svc', roomId: 'standup', nodeId: 'n1' });
    expect(new Set(got.map((e) => e.id)).size).toBe(got.length);
  });

  it('never blocks the room: a failing sink is retried, and a full buffer drops the oldest', async () => {
    let fail = true;
    const got: TesseraEvent[] = [];
    const { rooms, room, events } = setup(
      {
        publish: async (e) => {
          if (fail) throw new Error('down');
          got.push(...e);
        },
      },
      5,
    );
    rooms.emit('roomcreated', room);
    for (let i = 0; i < 10; i++) room.emit('peerjoined', info(`p${i}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(events.dropped).toBe(7);
    fail = false;
    await until(() => got.length === 5);
    expect(got.map((e) => ('participant' in e.data ? e.data.participant.id : e.type))).toEqual([
      'p5',
      'p6',
      'p7',
      'p8',
      'p9',
    ]);
    await events.close();
  });
});
