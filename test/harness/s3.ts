import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { createS3Client } from '../../shared/adapters/s3/client.ts';

/** A real S3-compatible server (s3rver) on 127.0.0.1 with one bucket, and Tessera's S3 client for it. */
export async function startS3(bucket: string) {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: mkdtempSync(join(tmpdir(), 'tessera-s3rver-')),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = createS3Client({ endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  return {
    s3,
    endpoint,
    async close() {
      s3.destroy();
      await server.close();
    },
  };
}
