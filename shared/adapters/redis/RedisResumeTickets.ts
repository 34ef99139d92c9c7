import type { Redis } from 'ioredis';
import type { ResumeTicket, ResumeTickets } from '../../ports/sessions.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

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
    const raw = await redisCall('resume tickets', () => this.#redis.get(clusterKeys.resume(id)));
    return raw ? (JSON.parse(raw) as ResumeTicket) : undefined;
  }

  async take(id: string): Promise<ResumeTicket | undefined> {
    // GETDEL is atomic: of concurrent takes, one gets the value and the others nil.
    const raw = await redisCall('resume tickets', () => this.#redis.getdel(clusterKeys.resume(id)));
    return raw ? (JSON.parse(raw) as ResumeTicket) : undefined;
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    await redisCall('resume tickets', () =>
      this.#redis.pexpire(clusterKeys.resume(id), Math.max(1, Math.ceil(ttlMs))),
    );
  }
}
