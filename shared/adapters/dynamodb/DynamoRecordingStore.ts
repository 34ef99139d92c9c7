import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, ErrorCodes, NotFoundError } from '../../errors.ts';
import type { RecordingStore } from '../../ports/durable.ts';
import { type Recording, RecordingSchema } from '../../protocol/http/recording.ts';
import { type DocumentSender, failingAsStorageErrors } from './failures.ts';

/** In the room's partition, beside its META item: `RECORDING#<createdAt>#<id>` sorts oldest first. */
const partition = (roomKey: string) => `ROOM#${roomKey}`;
const sortKey = (r: Pick<Recording, 'createdAt' | 'id'>) => `RECORDING#${r.createdAt}#${r.id}`;

export class DynamoRecordingStore implements RecordingStore {
  readonly #db: DocumentSender;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = failingAsStorageErrors(db, 'recording store');
    this.#table = table;
  }

  async create(recording: Recording): Promise<void> {
    if (await this.get(recording.roomId, recording.id))
      throw new ConflictError(`recording ${recording.id} exists`);
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: partition(recording.roomId), sk: sortKey(recording), ...recording },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new ConflictError(`recording ${recording.id} exists`);
      throw error;
    }
  }

  async get(roomKey: string, id: string): Promise<Recording | undefined> {
    // A room holds a bounded number of recordings (RecordingService): one query reads them all.
    return (await this.list(roomKey)).find((r) => r.id === id);
  }

  async list(roomKey: string): Promise<Recording[]> {
    const out: Recording[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': partition(roomKey), ':prefix': 'RECORDING#' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(toRecording(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async update(recording: Recording): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: partition(recording.roomId), sk: sortKey(recording), ...recording },
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeValues: { ':expected': recording.version - 1 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.get(recording.roomId, recording.id);
      if (!stored) throw new NotFoundError(ErrorCodes.notFound, `recording ${recording.id} not found`);
      throw new ConflictError(`recording ${recording.id} changed (version ${stored.version})`);
    }
  }
}

function toRecording(item: Record<string, unknown>): Recording {
  const { pk: _, sk: __, ...fields } = item;
  return RecordingSchema.parse(fields);
}
