import { StorageError, TesseraError } from '../../errors.ts';

/**
 * Runs a Redis operation; any failure of Redis itself (refused, timed out, disconnected, a
 * script error) becomes a StorageError, which the edge answers as 503/1401. Tessera's own
 * typed errors pass through.
 */
export async function redisCall<R>(what: string, op: () => Promise<R>): Promise<R> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw new StorageError(`${what} unavailable`, error);
  }
}
