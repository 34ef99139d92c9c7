import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The SQS client every part of Tessera uses. Requests go to the configured endpoint
 * (AWS_ENDPOINT_URL_SQS for LocalStack or an emulator), not to the host inside a queue URL:
 * emulators put hosts there that do not resolve. On AWS both are the same.
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({ useQueueUrlAsEndpoint: false });
}
