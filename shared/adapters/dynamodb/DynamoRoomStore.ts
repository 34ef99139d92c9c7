import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, ErrorCodes, NotFoundError, StorageError } from '../../errors.ts';
import type { Page, PageRequest, RoomStore } from '../../ports/durable.ts';
import type { Room } from '../../protocol/http/room.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type DocumentSender, failingAsStorageErrors } from './failures.ts';

const key = (id: string) => ({ pk: `ROOM#${id}`, sk: 'META' });
const item = (room: Room) => ({
  ...key(room.id),
  gsi1pk: `SERVICE#${room.serviceId}#ROOMS`,
  gsi1sk: `${room.createdAt}#${room.id}`,
  ...room,
});

export class DynamoRoomStore implements RoomStore {
  readonly #db: DocumentSender;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = failingAsStorageErrors(db, 'room store');
    this.#table = table;
  }

  async create(room: Room): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item(room),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError(`room ${room.id} exists`);
      throw new StorageError('room store unavailable', error);
    }
  }

  async get(id: string): Promise<Room | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: key(id), ConsistentRead: true }),
    );
    return Item ? toRoom(Item) : undefined;
  }

  async list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    const result = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `SERVICE#${serviceId}#ROOMS` },
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, ['pk', 'sk', 'gsi1pk', 'gsi1sk']),
      }),
    );
    const cursor = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(toRoom), ...(cursor ? { cursor } : {}) };
  }

  async update(room: Room): Promise<void> {
    // Invariant: a write lands only on the version it was computed from.
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item(room),
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeValues: { ':expected': room.version - 1 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (!error.Item) throw new NotFoundError(ErrorCodes.roomNotFound, `room ${room.id} not found`);
        throw new ConflictError(`room ${room.id} changed since it was read`);
      }
      throw new StorageError('room store unavailable', error);
    }
  }

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await this.#db.send(
      new DeleteCommand({ TableName: this.#table, Key: key(id), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }
}

function toRoom(i: Record<string, unknown>): Room {
  const { id, serviceId, name, options, version, createdAt, updatedAt } = i as unknown as Room;
  return { id, serviceId, name, options, version, createdAt, updatedAt };
}
