import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, ErrorCodes, NotFoundError, StorageError } from '../../errors.ts';
import type { Page, PageRequest, RoomStore } from '../../ports/durable.ts';
import type { Room } from '../../protocol/http/room.ts';
import { roomKey } from '../../protocol/http/roomKey.ts';
import { pageOfIndex } from './cursor.ts';
import { type DocumentSender, failingAsStorageErrors } from './failures.ts';

const key = (serviceId: string, id: string) => ({ pk: `ROOM#${roomKey(serviceId, id)}`, sk: 'META' });
/**
 * A service's room count, kept in the same transaction as every room create and delete: one
 * GetItem answers count() (a COUNT query would read every room item, ~KBs each, per create).
 */
const counterKey = (serviceId: string) => ({ pk: `SERVICE#${serviceId}`, sk: 'ROOMCOUNT' });
const item = (room: Room) => ({
  ...key(room.serviceId, room.id),
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
      await this.#transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: item(room),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            this.#countBy(room.serviceId, 1),
          ],
        }),
      );
    } catch (error) {
      if (conditionFailed(error)) throw new ConflictError(`room ${room.id} exists`);
      throw new StorageError('room store unavailable', error);
    }
  }

  async get(serviceId: string, id: string): Promise<Room | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: key(serviceId, id), ConsistentRead: true }),
    );
    return Item ? toRoom(Item) : undefined;
  }

  async list(serviceId: string, page: PageRequest): Promise<Page<Room>> {
    return pageOfIndex(this.#db, this.#table, `SERVICE#${serviceId}#ROOMS`, page, toRoom);
  }

  async count(serviceId: string): Promise<number> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: counterKey(serviceId), ConsistentRead: true }),
    );
    return typeof Item?.rooms === 'number' ? Math.max(0, Item.rooms) : 0;
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

  async delete(serviceId: string, id: string): Promise<boolean> {
    if (!(await this.get(serviceId, id))) return false;
    try {
      await this.#transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.#table,
                Key: key(serviceId, id),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            this.#countBy(serviceId, -1),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false; // deleted meanwhile
      throw new StorageError('room store unavailable', error);
    }
  }

  /** Creates and deletes of one service's rooms meet on its counter: a lost race is retried. */
  async #transact(command: TransactWriteCommand): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#db.send(command);
        return;
      } catch (error) {
        const conflict =
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.some((r) => r.Code === 'TransactionConflict');
        if (!conflict || conditionFailed(error) || attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  #countBy(serviceId: string, delta: 1 | -1) {
    return {
      Update: {
        TableName: this.#table,
        Key: counterKey(serviceId),
        UpdateExpression: 'ADD rooms :delta',
        ExpressionAttributeValues: { ':delta': delta },
      },
    };
  }
}

const conditionFailed = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';

function toRoom(i: Record<string, unknown>): Room {
  const { id, serviceId, name, options, version, createdAt, updatedAt } = i as unknown as Room;
  return { id, serviceId, name, options, version, createdAt, updatedAt };
}
