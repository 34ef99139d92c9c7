import type { Redis } from 'ioredis';
import type { ResumeTicket, ResumeTickets } from '../../ports/sessions.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

// Claim: the ticket (KEYS[1]) for connection ARGV[1] unless another connection claimed it
// (KEYS[2]); the first claim marks it and both keys then live ARGV[2] ms.
const CLAIM = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local by = redis.call('GET', KEYS[2])
if by and by ~= ARGV[1] then return false end
if not by then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return raw`;

export class RedisResumeTickets implements ResumeTickets {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async put(id: string, ticket: ResumeTicket, ttlMs: number): Promise<void> {
    await redisCall('resume tickets', () =>
      this.#redis.set(clusterKeys.resume(id), JSON.stringify(ticket), 'PX', Math.max(1, Math.ceil(ttlMs))),
    );
  }

  async get(id: string): Promise<ResumeTicket | undefined> {
    // A claimed ticket is used: only its claimant's retried login still gets it.
    const [raw, claimed] = await redisCall('resume tickets', () =>
      this.#redis.mget(clusterKeys.resume(id), clusterKeys.resumeClaim(id)),
    );
    return raw && !claimed ? (JSON.parse(raw) as ResumeTicket) : undefined;
  }

  async take(id: string): Promise<ResumeTicket | undefined> {
    // GETDEL is atomic: of concurrent takes, one gets the value and the others nil.
    const raw = await redisCall('resume tickets', () =>
      this.#redis
        .multi()
        .getdel(clusterKeys.resume(id))
        .del(clusterKeys.resumeClaim(id))
        .exec()
        .then((results) => results?.[0]?.[1] as string | null),
    );
    return raw ? (JSON.parse(raw) as ResumeTicket) : undefined;
  }

  async claim(id: string, by: string, holdMs: number): Promise<ResumeTicket | undefined> {
    const raw = await redisCall(
      'resume tickets',
      () =>
        this.#redis.eval(
          CLAIM,
          2,
          clusterKeys.resume(id),
          clusterKeys.resumeClaim(id),
          by,
          Math.max(1, Math.ceil(holdMs)),
        ) as Promise<string | null>,
    );
    return raw ? (JSON.parse(raw) as ResumeTicket) : undefined;
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    await redisCall('resume tickets', () =>
      this.#redis.pexpire(clusterKeys.resume(id), Math.max(1, Math.ceil(ttlMs))),
    );
  }
}
