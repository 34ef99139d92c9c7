import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ValidationError } from '../../errors.ts';
import { type BlobInfo, BlobKeySchema, type BlobStore } from '../../ports/blobs.ts';

/** At most this many keys a list returns (a room's recordings fit; more is paged by a later caller). */
const MAX_LIST = 1000;

const notFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

/**
 * A blob store in an S3 bucket (cluster and AWS modes), under an optional key prefix. Uploads
 * are one PutObject per file (up to S3's 5 GB per request: about 11 hours of a 1 Mbit/s recording).
 */
export class S3BlobStore implements BlobStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(s3: S3Client, bucket: string, prefix = '') {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#prefix = prefix;
  }

  #key(key: string): string {
    const parsed = BlobKeySchema.safeParse(key);
    if (!parsed.success)
      throw new ValidationError(`invalid blob key ${JSON.stringify(key).slice(0, 80)}`, [
        { path: 'key', message: parsed.error.issues[0]?.message ?? 'invalid' },
      ]);
    return this.#prefix + key;
  }

  async putFile(key: string, path: string, contentType?: string): Promise<BlobInfo> {
    const Key = this.#key(key);
    const bytes = (await stat(path)).size;
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key,
        Body: createReadStream(path),
        ContentLength: bytes,
        ...(contentType ? { ContentType: contentType } : {}),
      }),
    );
    return { key, bytes, location: `s3://${this.#bucket}/${Key}` };
  }

  async head(key: string): Promise<{ bytes: number } | undefined> {
    try {
      const out = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return { bytes: out.ContentLength ?? 0 };
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async get(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return out.Body as Readable | undefined;
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const out = await this.#s3.send(
      new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + prefix, MaxKeys: MAX_LIST }),
    );
    return (out.Contents ?? [])
      .filter((o) => o.Key !== undefined)
      .map((o) => ({
        key: o.Key!.slice(this.#prefix.length),
        bytes: o.Size ?? 0,
        location: `s3://${this.#bucket}/${o.Key}`,
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string): Promise<void> {
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
  }
}
