import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StorageError, TesseraError } from '../../errors.ts';

export type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/**
 * The client as the stores use it: every failure of DynamoDB itself (unreachable, timed out,
 * throttled, refused) becomes a StorageError (503/1401). A lost condition passes through
 * untouched, for the store to turn into ConflictError or NotFoundError.
 */
export function failingAsStorageErrors(db: DocumentSender, what: string): DocumentSender {
  const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;
  return {
    send: ((command: unknown) =>
      send(command).catch((error: unknown) => {
        if (
          error instanceof TesseraError ||
          error instanceof ConditionalCheckFailedException ||
          error instanceof TransactionCanceledException
        )
          throw error;
        throw new StorageError(`${what} unavailable`, error);
      })) as DocumentSender['send'],
  };
}
