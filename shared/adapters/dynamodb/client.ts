import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB client every part of Tessera uses. Each attempt is bounded by `timeoutMs`
 * (DYNAMODB_TIMEOUT_MS), for connecting and for the whole answer, and there is one retry: an
 * unreachable or frozen DynamoDB fails a request within about 2 × timeoutMs, never hangs.
 * The endpoint comes from the SDK's own AWS_ENDPOINT_URL_DYNAMODB.
 */
export function createDynamoClients(timeoutMs: number): {
  client: DynamoDBClient;
  db: DynamoDBDocumentClient;
} {
  const client = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, db };
}
