import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, StorageError } from '../../errors.ts';
import type { Page, PageRequest, ServiceRecord, ServiceStore, StoredWebhook } from '../../ports/durable.ts';
import { pageOfIndex } from './cursor.ts';
import { type DocumentSender, failingAsStorageErrors } from './failures.ts';

const key = (id: string) => ({ pk: `SERVICE#${id}`, sk: 'META' });
const nameKey = (name: string) => ({ pk: `SERVICENAME#${name}`, sk: 'META' });

export class DynamoServiceStore implements ServiceStore {
  readonly #db: DocumentSender;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = failingAsStorageErrors(db, 'service store');
    this.#table = table;
  }

  async create(service: ServiceRecord): Promise<void> {
    // Invariant: the service item and its name claim are written together or not at all,
    // and neither may exist already: ids and names stay unique.
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: {
                  ...key(service.id),
                  gsi1pk: 'SERVICES',
                  gsi1sk: `${service.createdAt}#${service.id}`,
                  ...service,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: { ...nameKey(service.name), serviceId: service.id },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw new ConflictError(`service ${service.name} exists`);
      throw new StorageError('service store unavailable', error);
    }
  }

  async get(id: string): Promise<ServiceRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: key(id), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async list(page: PageRequest): Promise<Page<ServiceRecord>> {
    return pageOfIndex(this.#db, this.#table, 'SERVICES', page, toRecord);
  }

  async delete(id: string): Promise<boolean> {
    const existing = await this.get(id);
    if (!existing) return false;
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.#table, Key: key(id), ConditionExpression: 'attribute_exists(pk)' } },
            { Delete: { TableName: this.#table, Key: nameKey(existing.name) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw new StorageError('service store unavailable', error);
    }
  }

  async setWebhook(id: string, webhook: StoredWebhook | undefined): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key(id),
          ...(webhook
            ? { UpdateExpression: 'SET webhook = :w', ExpressionAttributeValues: { ':w': webhook } }
            : { UpdateExpression: 'REMOVE webhook' }),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toRecord(item: Record<string, unknown>): ServiceRecord {
  return {
    id: item.id,
    name: item.name,
    sealedKey: item.sealedKey,
    createdAt: item.createdAt,
    ...(item.webhook ? { webhook: item.webhook } : {}),
  } as ServiceRecord;
}
