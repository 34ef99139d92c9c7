import type { Redis } from 'ioredis';
import { ConflictError, type NotFoundCode, NotFoundError } from '../../errors.ts';
import { type LiveCollection, type LiveKind, notFoundCode, type Versioned } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { ROOM_STATE_TTL_MS, redisKeys } from './keys.ts';

// Compare-and-set on a hash field: write ARGV[2] only if the stored record's version is
// ARGV[3]. Returns -1 when the field is missing, 0 when the version differs, 1 when written.
const UPDATE_IF_VERSION = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if cjson.decode(current).version ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

// Admission: write ARGV[2] under field ARGV[1] only while the hash has fewer than ARGV[3]
// fields (negative: no limit) or already holds the field. Returns 1 when written, 0 when full.
const ADMIT_IF_ROOM = `
local limit = tonumber(ARGV[3])
if limit >= 0 and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= limit then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

type Kind = LiveKind;

/** Participants or streams of live rooms, one Redis hash per room (see keys.ts). */
export class RedisLiveCollection<T extends Versioned> implements LiveCollection<T> {
  readonly #redis: Redis;
  readonly #key: (roomId: string) => string;
  readonly #notFound: NotFoundCode;

  constructor(redis: Redis, kind: Kind) {
    this.#redis = redis;
    this.#key =
      kind === 'participant'
        ? redisKeys.participants
        : kind === 'stream'
          ? redisKeys.streams
          : redisKeys.streamingOuts;
    this.#notFound = notFoundCode(kind);
  }

  async put(record: T): Promise<void> {
    const key = this.#key(record.roomId);
    await this.#call(() =>
      this.#redis.multi().hset(key, record.id, JSON.stringify(record)).pexpire(key, ROOM_STATE_TTL_MS).exec(),
    );
  }

  async admit(record: T, limit: number): Promise<boolean> {
    const result = await this.#call(() =>
      this.#redis.eval(
        ADMIT_IF_ROOM,
        1,
        this.#key(record.roomId),
        record.id,
        JSON.stringify(record),
        limit,
        ROOM_STATE_TTL_MS,
      ),
    );
    return result === 1;
  }

  async get(roomId: string, id: string): Promise<T | undefined> {
    const raw = await this.#call(() => this.#redis.hget(this.#key(roomId), id));
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  async list(roomId: string): Promise<T[]> {
    const all = await this.#call(() => this.#redis.hvals(this.#key(roomId)));
    return all.map((raw) => JSON.parse(raw) as T);
  }

  async update(record: T): Promise<void> {
    const result = await this.#call(() =>
      this.#redis.eval(
        UPDATE_IF_VERSION,
        1,
        this.#key(record.roomId),
        record.id,
        JSON.stringify(record),
        record.version - 1,
        ROOM_STATE_TTL_MS,
      ),
    );
    if (result === -1) throw new NotFoundError(this.#notFound, `${record.id} not found`);
    if (result === 0) throw new ConflictError(`${record.id} changed since it was read`);
  }

  async delete(roomId: string, id: string): Promise<boolean> {
    return (await this.#call(() => this.#redis.hdel(this.#key(roomId), id))) === 1;
  }

  async clear(roomId: string): Promise<void> {
    await this.#call(() => this.#redis.del(this.#key(roomId)));
  }

  #call<R>(op: () => Promise<R>): Promise<R> {
    return redisCall('live state', op);
  }
}
