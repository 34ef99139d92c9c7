// The BlobStore port's contract, run against a local directory and against S3 (a real
// S3-compatible server, s3rver, on 127.0.0.1): what recordings are stored through.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../shared/adapters/local/LocalBlobStore.ts';
import { S3BlobStore } from '../../shared/adapters/s3/S3BlobStore.ts';
import { ErrorCodes } from '../../shared/errors.ts';
import type { BlobStore } from '../../shared/ports/blobs.ts';
import { startS3 } from '../harness/s3.ts';

const BUCKET = 'tessera-test';

describe.each([
  [
    'local directory',
    async () => ({
      store: new LocalBlobStore(mkdtempSync(join(tmpdir(), 'tessera-blobs-'))) as BlobStore,
      close: async () => {},
    }),
  ],
  [
    's3 (s3rver)',
    async () => {
      const { s3, close } = await startS3(BUCKET);
      return { store: new S3BlobStore(s3, BUCKET, 'recordings/') as BlobStore, close };
    },
  ],
])('BlobStore contract (%s)', (_name, make) => {
  let store: BlobStore;
  let close: () => Promise<void>;
  const files = mkdtempSync(join(tmpdir(), 'tessera-blob-files-'));
  const file = (name: string, body: string) => {
    const path = join(files, name);
    writeFileSync(path, body);
    return path;
  };

  beforeAll(async () => {
    ({ store, close } = await make());
  }, 30_000);
  afterAll(() => close());

  it('stores a file under a key and gives its size, bytes and location back', async () => {
    const info = await store.putFile('room-a/rec-1.mkv', file('one', 'hello recording'), 'video/x-matroska');
    expect(info).toMatchObject({ key: 'room-a/rec-1.mkv', bytes: 15 });
    expect(info.location).toMatch(/rec-1\.mkv$/);
    expect(await store.head('room-a/rec-1.mkv')).toEqual({ bytes: 15 });
    expect(await text((await store.get('room-a/rec-1.mkv'))!)).toBe('hello recording');
  });

  it('replaces a blob put again under the same key', async () => {
    await store.putFile('room-a/rec-2.mkv', file('two', 'first'));
    await store.putFile('room-a/rec-2.mkv', file('two-b', 'second take'));
    expect(await text((await store.get('room-a/rec-2.mkv'))!)).toBe('second take');
  });

  it('lists by prefix, in key order, and deletes (twice is no error)', async () => {
    await store.putFile('room-b/x.mp4', file('x', 'xx'));
    await store.putFile('room-b/a.mp4', file('a', 'a'));
    expect((await store.list('room-b/')).map((b) => [b.key, b.bytes])).toEqual([
      ['room-b/a.mp4', 1],
      ['room-b/x.mp4', 2],
    ]);
    await store.delete('room-b/x.mp4');
    await store.delete('room-b/x.mp4');
    expect((await store.list('room-b/')).map((b) => b.key)).toEqual(['room-b/a.mp4']);
    expect(await store.head('room-b/x.mp4')).toBeUndefined();
    expect(await store.get('room-b/x.mp4')).toBeUndefined();
  });

  it('refuses keys that could leave the store, with a validation error', async () => {
    for (const key of ['../escape', 'a/../../b', '/abs', '', 'a//b', 'sp ace', 'a/..', '.']) {
      await expect(store.putFile(key, file('k', 'k')), key).rejects.toMatchObject({
        code: ErrorCodes.invalidRequest,
      });
      await expect(
        Promise.resolve().then(() => store.head(key)),
        key,
      ).rejects.toMatchObject({
        code: ErrorCodes.invalidRequest,
      });
    }
  });
});
