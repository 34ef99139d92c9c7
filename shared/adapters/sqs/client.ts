import { SQSClient } from '@aws-sdk/client-sqs';

/** Above SQS's longest long poll (20 s), so a receive is never cut short. */
const REQUEST_TIMEOUT_MS = 25_000;
const CONNECTION_TIMEOUT_MS = 2000;

/**
 * The SQS client every part of Tessera uses. Requests go to the configured endpoint
 * (AWS_ENDPOINT_URL_SQS for LocalStack or an emulator), not to the host inside a queue URL:
 * emulators put hosts there that do not resolve. On AWS both are the same. Every attempt is
 * bounded (connecting: 2 s; the answer: 25 s, which covers a long poll), so an unreachable
 * SQS is an error, never a hang.
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({
    useQueueUrlAsEndpoint: false,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
}
