import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingStore } from '../../shared/adapters/dynamodb/DynamoRecordingStore.ts';
import { MemoryRecordingStore } from '../../shared/adapters/memory/MemoryRecordingStore.ts';
import { ConflictError, NotFoundError } from '../../shared/errors.ts';
import type { RecordingStore } from '../../shared/ports/durable.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';
import { dynamoTable, uniqueId } from './adapters.ts';

const recording = (roomId: string, n = 0): Recording => ({
  id: uniqueId('rec'),
  roomId,
  container: 'mkv',
  media: { audio: { from: 'pub-a', format: { codec: 'opus' }, status: 'active' } },
  storage: { host: 'node-1', file: 'x.mkv' },
  status: 'starting',
  nodeId: 'node-1',
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  bytes: 0,
  durationMs: 0,
  files: [],
  version: 1,
});

const adapters: [string, () => Promise<{ store: RecordingStore; close(): void }>][] = [
  ['memory', async () => ({ store: new MemoryRecordingStore(), close: () => {} })],
  [
    'dynamodb',
    async () => {
      const t = await dynamoTable();
      return { store: new DynamoRecordingStore(t.db, t.table), close: t.close };
    },
  ],
];

describe.each(adapters)('RecordingStore contract: %s', (_name, make) => {
  let store: RecordingStore;
  let close: () => void;
  beforeAll(async () => {
    ({ store, close } = await make());
  });
  afterAll(() => close());

  it("creates, reads back and lists a room's recordings oldest first; another room has its own", async () => {
    const room = uniqueId('svc/room');
    const [a, b] = [recording(room, 2), recording(room, 1)];
    await store.create(a);
    await store.create(b);
    await store.create(recording(uniqueId('svc/other')));
    expect(await store.get(room, a.id)).toEqual(a);
    expect(await store.get(room, 'missing')).toBeUndefined();
    expect((await store.list(room)).map((r) => r.id)).toEqual([b.id, a.id]);
    await expect(store.create({ ...a, status: 'failed' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('updates with the next version only; a stale or missing one is refused', async () => {
    const room = uniqueId('svc/room');
    const r = recording(room);
    await store.create(r);
    const ended: Recording = {
      ...r,
      status: 'stopped',
      bytes: 1234,
      durationMs: 5000,
      endedAt: new Date().toISOString(),
      files: [{ key: `${r.id}.mkv`, bytes: 1234, location: `/tmp/${r.id}.mkv` }],
      version: 2,
    };
    await store.update(ended);
    expect(await store.get(room, r.id)).toEqual(ended);
    await expect(store.update({ ...ended, status: 'failed' })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.update({ ...recording(room), version: 2 })).rejects.toBeInstanceOf(NotFoundError);
  });
});
