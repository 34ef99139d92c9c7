import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDepartures } from '../../shared/adapters/memory/MemoryDepartures.ts';
import { RedisDepartures } from '../../shared/adapters/redis/RedisDepartures.ts';
import type { Departures } from '../../shared/ports/departures.ts';
import { redisClient, uniqueId } from './adapters.ts';

describe.each([
  ['memory', () => ({ departures: new MemoryDepartures() as Departures, close: () => {} })],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return { departures: new RedisDepartures(redis) as Departures, close: () => redis.disconnect() };
    },
  ],
])('Departures contract (%s)', (_name, make) => {
  let departures: Departures;
  let close: () => void;
  beforeAll(() => {
    ({ departures, close } = make());
  });
  afterAll(() => close());
  // Far in the past or future, so departures of the other tests (and runs) stay out of the way.
  const T = 1_000_000;

  it('gives a due departure to exactly one of racing sweepers, and nothing not yet due', async () => {
    const room = uniqueId('room');
    await departures.schedule({ roomId: room, participantId: 'p1', nodeId: 'n1', version: 3 }, T);
    await departures.schedule({ roomId: room, participantId: 'p2', nodeId: 'n1', version: 1 }, 9e15);
    const takes = await Promise.all([departures.takeDue(T, 100), departures.takeDue(T, 100)]);
    const mine = takes.flat().filter((d) => d.roomId === room);
    expect(mine).toEqual([{ roomId: room, participantId: 'p1', nodeId: 'n1', version: 3 }]);
    expect((await departures.takeDue(T, 100)).filter((d) => d.roomId === room)).toEqual([]);
    await departures.cancel(room, 'p2');
  });

  it('a cancelled departure never falls due; a new schedule replaces the old', async () => {
    const room = uniqueId('room');
    await departures.schedule({ roomId: room, participantId: 'p1', nodeId: 'n1', version: 1 }, T);
    await departures.cancel(room, 'p1');
    await departures.schedule({ roomId: room, participantId: 'p2', nodeId: 'n1', version: 1 }, T);
    await departures.schedule({ roomId: room, participantId: 'p2', nodeId: 'n2', version: 2 }, T);
    const mine = (await departures.takeDue(T, 1000)).filter((d) => d.roomId === room);
    expect(mine).toEqual([{ roomId: room, participantId: 'p2', nodeId: 'n2', version: 2 }]);
  });
});
