import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB client every part of Tessera uses. A request gets two attempts (one retry for
 * throttling and transient errors), each bounded by half of `timeoutMs` (DYNAMODB_TIMEOUT_MS)
 * for connecting and for the whole answer: an unreachable or frozen DynamoDB fails a request
 * within about `timeoutMs` plus the retry's backoff, never hangs. DynamoDB answers in
 * milliseconds, so half of the 2 s default leaves a wide margin for a healthy one.
 * The endpoint comes from the SDK's own AWS_ENDPOINT_URL_DYNAMODB.
 */
export function createDynamoClients(timeoutMs: number): {
  client: DynamoDBClient;
  db: DynamoDBDocumentClient;
} {
  const attemptMs = Math.ceil(timeoutMs / 2);
  const client = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: attemptMs, requestTimeout: attemptMs, throwOnRequestTimeout: true },
  });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, db };
}
