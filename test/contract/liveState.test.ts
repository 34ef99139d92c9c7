import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLiveCollection } from '../../shared/adapters/memory/MemoryLiveCollection.ts';
import { MemoryPlacementStore } from '../../shared/adapters/memory/MemoryPlacementStore.ts';
import { MemoryTokenLedger } from '../../shared/adapters/memory/MemoryTokenLedger.ts';
import { RedisLiveCollection } from '../../shared/adapters/redis/RedisLiveCollection.ts';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import { RedisTokenLedger } from '../../shared/adapters/redis/RedisTokenLedger.ts';
import { ConflictError, NotFoundError } from '../../shared/errors.ts';
import type { ParticipantStore, PlacementStore, TokenLedger } from '../../shared/ports/live.ts';
import type { Participant } from '../../shared/protocol/http/liveState.ts';
import { redisClient, uniqueId } from './adapters.ts';

interface LiveAdapters {
  participants: ParticipantStore;
  tokens: TokenLedger;
  placement: PlacementStore;
  close(): void;
}

const adapters: [string, () => LiveAdapters][] = [
  [
    'memory',
    () => ({
      participants: new MemoryLiveCollection<Participant>('participant'),
      tokens: new MemoryTokenLedger(),
      placement: new MemoryPlacementStore(),
      close: () => {},
    }),
  ],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return {
        participants: new RedisLiveCollection<Participant>(redis, 'participant'),
        tokens: new RedisTokenLedger(redis),
        placement: new RedisPlacementStore(redis),
        close: () => redis.disconnect(),
      };
    },
  ],
];

const participant = (roomId: string): Participant => ({
  id: uniqueId('p'),
  roomId,
  user: 'ana',
  role: 'presenter',
  permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  joinedAt: new Date().toISOString(),
  version: 1,
});

describe.each(adapters)('live state contract: %s', (_name, make) => {
  let a: LiveAdapters;
  beforeAll(() => {
    a = make();
  });
  afterAll(() => a.close());

  it('puts, reads and lists participants per room', async () => {
    const room = uniqueId('room');
    const p1 = participant(room);
    const p2 = participant(room);
    await a.participants.put(p1);
    await a.participants.put(p2);
    await a.participants.put(participant(uniqueId('other-room')));
    expect(await a.participants.get(room, p1.id)).toEqual(p1);
    expect((await a.participants.list(room)).map((p) => p.id).sort()).toEqual([p1.id, p2.id].sort());
  });

  it('updates only from the current version', async () => {
    const room = uniqueId('room');
    const p = participant(room);
    await a.participants.put(p);
    const v2 = { ...p, role: 'viewer', version: 2 };
    await a.participants.update(v2);
    await expect(a.participants.update({ ...p, role: 'stale', version: 2 })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(a.participants.update({ ...p, id: 'gone', version: 2 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await a.participants.get(room, p.id)).toEqual(v2);
  });

  it('deletes one participant, then clears the room', async () => {
    const room = uniqueId('room');
    const [p1, p2] = [participant(room), participant(room)];
    await a.participants.put(p1);
    await a.participants.put(p2);
    expect(await a.participants.delete(room, p1.id)).toBe(true);
    expect(await a.participants.delete(room, p1.id)).toBe(false);
    await a.participants.clear(room);
    expect(await a.participants.list(room)).toEqual([]);
  });

  it('admits concurrent joins up to the limit and no further', async () => {
    const room = uniqueId('room');
    const results = await Promise.all(
      Array.from({ length: 30 }, () => a.participants.admit(participant(room), 3)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await a.participants.list(room)).toHaveLength(3);
    // A negative limit is no limit; a record already admitted may be written again.
    const unlimited = uniqueId('room');
    for (let i = 0; i < 5; i++) expect(await a.participants.admit(participant(unlimited), -1)).toBe(true);
    const [first] = await a.participants.list(room);
    expect(await a.participants.admit({ ...first!, user: 'again' }, 3)).toBe(true);
  });

  it('redeems a join token exactly once, even under concurrent redemptions', async () => {
    const id = uniqueId('tok');
    await a.tokens.record(id, Date.now() + 60_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => a.tokens.redeem(id)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.tokens.redeem(uniqueId('never-issued'))).toBe(false);
  });

  it('does not redeem an expired token', async () => {
    const id = uniqueId('tok');
    await a.tokens.record(id, Date.now() + 150);
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.tokens.redeem(id)).toBe(false);
  });

  it('stores room placement', async () => {
    const room = uniqueId('room');
    expect(await a.placement.get(room)).toBeUndefined();
    await a.placement.set(room, 'node-1');
    expect(await a.placement.get(room)).toBe('node-1');
    await a.placement.delete(room);
    expect(await a.placement.get(room)).toBeUndefined();
  });
});
