import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ValidationError } from '../../errors.ts';
import { type BlobInfo, BlobKeySchema, type BlobStore } from '../../ports/blobs.ts';

/** A blob store in a local directory (embedded mode): a key is a path under the root. */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The file a key stands for (checked: it stays under the root). */
  pathOf(key: string): string {
    const parsed = BlobKeySchema.safeParse(key);
    if (!parsed.success)
      throw new ValidationError(`invalid blob key ${JSON.stringify(key).slice(0, 80)}`, [
        { path: 'key', message: parsed.error.issues[0]?.message ?? 'invalid' },
      ]);
    return join(this.root, ...key.split('/'));
  }

  async putFile(key: string, path: string): Promise<BlobInfo> {
    const target = this.pathOf(key);
    // A recorder writing into this store's directory: the part is already in place.
    if (resolve(path) !== target) {
      await mkdir(dirname(target), { recursive: true });
      await copyFile(path, target);
    }
    return { key, bytes: (await stat(target)).size, location: target };
  }

  async head(key: string): Promise<{ bytes: number } | undefined> {
    const info = await stat(this.pathOf(key)).catch(() => undefined);
    return info?.isFile() ? { bytes: info.size } : undefined;
  }

  async get(key: string): Promise<Readable | undefined> {
    const path = this.pathOf(key);
    if (!(await this.head(key))) return undefined;
    return createReadStream(path);
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    const blobs: BlobInfo[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const location = join(entry.parentPath ?? entry.path, entry.name);
      const key = relative(this.root, location).split(sep).join('/');
      if (!key.startsWith(prefix) || !BlobKeySchema.safeParse(key).success) continue;
      blobs.push({ key, bytes: (await stat(location)).size, location });
    }
    return blobs.sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
