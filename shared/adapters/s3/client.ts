import { S3Client } from '@aws-sdk/client-s3';

const CONNECTION_TIMEOUT_MS = 2000;
/** An upload of a recording part may take a while; a silent connection still ends. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * The S3 client of the blob store. Requests go to `endpoint`, else AWS_ENDPOINT_URL_S3 (or
 * AWS_ENDPOINT_URL) when set: an emulator (LocalStack, s3rver), addressed path-style since its bucket names do not
 * resolve as hosts. Checksums only where S3 requires them: emulators predate the SDK's default
 * aws-chunked uploads.
 */
export function createS3Client(
  options: { endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): S3Client {
  const emulated = Boolean(
    options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
  );
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint, region: 'us-east-1' } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: emulated,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
}
