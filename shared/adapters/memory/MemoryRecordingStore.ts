import { ConflictError, ErrorCodes, NotFoundError } from '../../errors.ts';
import type { RecordingStore } from '../../ports/durable.ts';
import type { Recording } from '../../protocol/http/recording.ts';

/** Recordings in this process (embedded mode), per room; listed in creation order as DynamoDB keeps them. */
export class MemoryRecordingStore implements RecordingStore {
  readonly #byRoom = new Map<string, Map<string, Recording>>();

  async create(recording: Recording): Promise<void> {
    const room = this.#byRoom.get(recording.roomId) ?? new Map<string, Recording>();
    if (room.has(recording.id)) throw new ConflictError(`recording ${recording.id} exists`);
    room.set(recording.id, structuredClone(recording));
    this.#byRoom.set(recording.roomId, room);
  }

  async get(roomKey: string, id: string): Promise<Recording | undefined> {
    const recording = this.#byRoom.get(roomKey)?.get(id);
    return recording && structuredClone(recording);
  }

  async list(roomKey: string): Promise<Recording[]> {
    const order = (r: Recording) => `${r.createdAt}#${r.id}`;
    return [...(this.#byRoom.get(roomKey)?.values() ?? [])]
      .sort((a, b) => (order(a) < order(b) ? -1 : 1))
      .map((r) => structuredClone(r));
  }

  async update(recording: Recording): Promise<void> {
    const room = this.#byRoom.get(recording.roomId);
    const stored = room?.get(recording.id);
    if (!room || !stored) throw new NotFoundError(ErrorCodes.notFound, `recording ${recording.id} not found`);
    if (stored.version !== recording.version - 1)
      throw new ConflictError(`recording ${recording.id} changed (version ${stored.version})`);
    room.set(recording.id, structuredClone(recording));
  }
}
