import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryResumeTickets } from '../../shared/adapters/memory/MemoryResumeTickets.ts';
import { RedisResumeTickets } from '../../shared/adapters/redis/RedisResumeTickets.ts';
import type { ResumeTicket, ResumeTickets } from '../../shared/ports/sessions.ts';
import { redisClient, uniqueId } from './adapters.ts';

const ticket = (participantId: string): ResumeTicket => ({
  roomId: 'svc/room',
  nodeId: 'node-a',
  connectionId: uniqueId('conn'),
  participant: {
    id: participantId,
    user: 'ana',
    role: 'presenter',
    permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['memory', () => ({ tickets: new MemoryResumeTickets() as ResumeTickets, close: () => {} })],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return { tickets: new RedisResumeTickets(redis) as ResumeTickets, close: () => redis.disconnect() };
    },
  ],
])('ResumeTickets contract (%s)', (_name, make) => {
  let tickets: ResumeTickets;
  let close: () => void;
  beforeAll(() => {
    ({ tickets, close } = make());
  });
  afterAll(() => close());

  it('keeps a ticket until it is taken, and gives it once', async () => {
    const id = uniqueId('t');
    const t = ticket('p1');
    await tickets.put(id, t, 60_000);
    expect(await tickets.get(id)).toEqual(t);
    const takes = await Promise.all([tickets.take(id), tickets.take(id), tickets.take(id)]);
    expect(takes.filter(Boolean)).toEqual([t]);
    expect(await tickets.get(id)).toBeUndefined();
  });

  it('gives a claimed ticket to one connection, again to that one, and to nobody after the hold', async () => {
    const id = uniqueId('t');
    const t = ticket('p4');
    await tickets.put(id, t, 60_000);
    const claims = await Promise.all(['conn-a', 'conn-b', 'conn-c'].map((c) => tickets.claim(id, c, 150)));
    expect(claims.filter(Boolean)).toEqual([t]);
    const winner = ['conn-a', 'conn-b', 'conn-c'][claims.findIndex(Boolean)]!;
    const loser = winner === 'conn-a' ? 'conn-b' : 'conn-a';
    expect(await tickets.claim(id, winner, 150)).toEqual(t);
    expect(await tickets.claim(id, loser, 150)).toBeUndefined();
    expect(await tickets.get(id)).toBeUndefined();
    await sleep(250);
    expect(await tickets.claim(id, winner, 150)).toBeUndefined();
    // A take ends a claimed ticket at once.
    const next = uniqueId('t');
    await tickets.put(next, t, 60_000);
    expect(await tickets.claim(next, 'conn-a', 10_000)).toEqual(t);
    expect(await tickets.take(next)).toEqual(t);
    expect(await tickets.claim(next, 'conn-a', 10_000)).toBeUndefined();
  });

  it('forgets an unknown or expired ticket', async () => {
    expect(await tickets.take(uniqueId('never'))).toBeUndefined();
    const id = uniqueId('t');
    await tickets.put(id, ticket('p2'), 50);
    await sleep(120);
    expect(await tickets.take(id)).toBeUndefined();
  });

  it('expire shortens a ticket to the grace period', async () => {
    const id = uniqueId('t');
    await tickets.put(id, ticket('p3'), 60_000);
    await tickets.expire(id, 80);
    expect(await tickets.get(id)).toBeDefined();
    await sleep(160);
    expect(await tickets.get(id)).toBeUndefined();
    // Expiring a ticket that is gone is no error.
    await tickets.expire(uniqueId('gone'), 1000);
  });
});
