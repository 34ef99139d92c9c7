import { describe, expect, it } from 'vitest';
import { RecordingProjection } from '../../functions/recordings/RecordingProjection.ts';
import { MemoryRecordingStore } from '../../shared/adapters/memory/MemoryRecordingStore.ts';
import { newEvent } from '../../shared/protocol/events.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';

const KEY = 'svc/room';
const record = (): Recording => ({
  id: 'r1',
  roomId: KEY,
  container: 'mkv',
  media: { video: { from: 'pub', format: { codec: 'vp8' }, status: 'active' } },
  storage: { host: 'node-1', file: 'r1.mkv' },
  status: 'starting',
  nodeId: 'node-1',
  createdAt: new Date().toISOString(),
  bytes: 0,
  durationMs: 0,
  files: [],
  version: 1,
});
const report = { id: 'r1', container: 'mkv', bytes: 0, durationMs: 0, files: [] };
const files = [
  { key: 'r1.mkv', bytes: 900, location: '/rec/r1.mkv' },
  { key: 'r1.1.mkv', bytes: 100, location: '/rec/r1.1.mkv' },
];
const event = (type: 'recording.started' | 'recording.ended' | 'recording.failed', extra = {}) =>
  newEvent(type, {
    serviceId: 'svc',
    roomId: 'room',
    nodeId: 'node-1',
    data: { recording: { ...report, ...extra } },
  });

describe('RecordingProjection', () => {
  it('started → recording; ended → stopped with what was written; an end is final and applied once', async () => {
    const store = new MemoryRecordingStore();
    const projection = new RecordingProjection(store);
    await store.create(record());
    await projection.apply(event('recording.started'));
    expect(await store.get(KEY, 'r1')).toMatchObject({ status: 'recording', version: 2 });
    const ended = event('recording.ended', { bytes: 1000, durationMs: 4200, files, reason: 'stopped' });
    await projection.apply(ended);
    const after = await store.get(KEY, 'r1');
    expect(after).toMatchObject({
      status: 'stopped',
      bytes: 1000,
      durationMs: 4200,
      files,
      reason: 'stopped',
    });
    expect(after!.endedAt).toBe(ended.at);
    // Delivered again, or a start arriving late, or a failure after it: nothing changes.
    await projection.apply(ended);
    await projection.apply(event('recording.started'));
    await projection.apply(event('recording.failed', { reason: 'late' }));
    expect(await store.get(KEY, 'r1')).toEqual(after);
  });

  it('a failure is recorded with its reason; a recording without a record and other events are ignored', async () => {
    const store = new MemoryRecordingStore();
    const projection = new RecordingProjection(store);
    await store.create(record());
    await projection.apply(event('recording.failed', { reason: 'input gone' }));
    expect(await store.get(KEY, 'r1')).toMatchObject({ status: 'failed', reason: 'input gone' });
    await projection.apply(event('recording.ended', { id: 'unknown' }));
    await projection.apply(
      newEvent('room.started', { serviceId: 'svc', roomId: 'room', nodeId: 'n', data: {} }),
    );
    expect(await store.list(KEY)).toHaveLength(1);
  });
});
