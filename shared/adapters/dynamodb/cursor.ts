import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';

/** DynamoDB's LastEvaluatedKey as an opaque cursor, and back (validated: it comes from callers). */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(
  cursor: string | undefined,
  keyNames: string[],
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'not a cursor from a previous page' },
  ]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalid;
  }
  if (!key || typeof key !== 'object') throw invalid;
  const entries = Object.entries(key);
  if (
    entries.length !== keyNames.length ||
    !entries.every(([k, v]) => keyNames.includes(k) && typeof v === 'string' && v.length < 1024)
  ) {
    throw invalid;
  }
  return key as Record<string, string>;
}

/** A gsi1 query: which items, in index order. */
export interface IndexQuery {
  TableName: string;
  IndexName: 'gsi1';
  KeyConditionExpression: string;
  ExpressionAttributeValues: Record<string, string>;
}

/**
 * Passes over `skip` items of an index query reading their keys only (no room bodies cross the
 * wire), for OWT's `?page=N`. Returns the key to start the page after (undefined: from the
 * start), or null when the list ends within the skipped items.
 */
export async function skipKeys(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  query: IndexQuery,
  start: Record<string, unknown> | undefined,
  skip: number,
): Promise<Record<string, unknown> | undefined | null> {
  let key = start;
  let remaining = skip;
  while (remaining > 0) {
    const result = await db.send(
      new QueryCommand({
        ...query,
        ProjectionExpression: '#pk, #sk, #gpk, #gsk',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#gpk': 'gsi1pk', '#gsk': 'gsi1sk' },
        Limit: remaining,
        ExclusiveStartKey: key,
      }),
    );
    remaining -= result.Items?.length ?? 0;
    if (!result.LastEvaluatedKey) return null;
    key = result.LastEvaluatedKey;
  }
  return key;
}

/**
 * One page of the gsi1 partition `partition`: skip (keys only) past `page.skip` items after the
 * cursor, then read `page.limit` items; the next cursor when more may follow.
 */
export async function pageOfIndex<T>(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  partition: string,
  page: { limit: number; cursor?: string; skip?: number },
  toItem: (raw: Record<string, unknown>) => T,
): Promise<{ items: T[]; cursor?: string }> {
  const query: IndexQuery = {
    TableName: table,
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': partition },
  };
  const start = await skipKeys(
    db,
    query,
    decodeCursor(page.cursor, ['pk', 'sk', 'gsi1pk', 'gsi1sk']),
    page.skip ?? 0,
  );
  if (start === null) return { items: [] };
  const result = await db.send(new QueryCommand({ ...query, Limit: page.limit, ExclusiveStartKey: start }));
  const cursor = encodeCursor(result.LastEvaluatedKey);
  return { items: (result.Items ?? []).map(toItem), ...(cursor ? { cursor } : {}) };
}
