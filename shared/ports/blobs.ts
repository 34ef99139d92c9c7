import type { Readable } from 'node:stream';
import { z } from 'zod';

/**
 * A blob's key: slash-separated segments of letters, digits, `_`, `-` and `.`, no segment made of
 * dots only (no `..`, no absolute path): a key can never leave the store's root directory.
 */
export const BlobKeySchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'segments of letters, digits, _ - . separated by /')
  .refine((key) => key.split('/').every((segment) => !/^\.+$/.test(segment)), 'no . or .. segment');

export interface BlobInfo {
  key: string;
  bytes: number;
  /** Where it is, for an operator: an absolute path, or `s3://bucket/key`. */
  location: string;
}

/**
 * Where recordings (and later HLS/DASH segments) are kept: a local directory in embedded mode, S3
 * in cluster and AWS modes. Keys are checked with BlobKeySchema (a ValidationError otherwise).
 */
export interface BlobStore {
  /** Stores a local file (a recording part ffmpeg has closed) under `key`, replacing what was there. */
  putFile(key: string, path: string, contentType?: string): Promise<BlobInfo>;
  /** Size of a stored blob; undefined when there is none. */
  head(key: string): Promise<{ bytes: number } | undefined>;
  /** A stored blob's bytes as a stream; undefined when there is none. */
  get(key: string): Promise<Readable | undefined>;
  /** The blobs under a prefix (`room/` lists a room's), by key. */
  list(prefix: string): Promise<BlobInfo[]>;
  /** Removes a blob; nothing when there is none. */
  delete(key: string): Promise<void>;
}
