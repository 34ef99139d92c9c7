import { ValidationError } from '../../errors.ts';
import type { Page, PageRequest } from '../../ports/durable.ts';

/**
 * Offset cursors over an ordered in-memory list: only the indices of one page are touched,
 * `skip` included, so a page costs O(page size) whatever its position.
 */
export function pageOf<T>(items: readonly T[], page: PageRequest): Page<T> {
  let offset = 0;
  if (page.cursor !== undefined) {
    const decoded = Buffer.from(page.cursor, 'base64url').toString();
    offset = Number(decoded);
    if (!/^\d{1,9}$/.test(decoded) || page.cursor !== Buffer.from(decoded).toString('base64url')) {
      throw new ValidationError('invalid cursor', [
        { path: 'cursor', message: 'not a cursor from a previous page' },
      ]);
    }
  }
  offset += page.skip ?? 0;
  const slice = items.slice(offset, offset + page.limit);
  const next = offset + slice.length;
  return next < items.length
    ? { items: slice, cursor: Buffer.from(String(next)).toString('base64url') }
    : { items: slice };
}

/** Records kept in creation order: (createdAt, id), the order the DynamoDB index keeps. */
export class CreationOrder {
  readonly #keys: string[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** Every key is `createdAt#id` (ISO timestamps sort as strings). */
  static key(record: { createdAt: string; id: string }): string {
    return `${record.createdAt}#${record.id}`;
  }

  add(key: string): void {
    this.#keys.splice(this.#search(key), 0, key);
  }

  remove(key: string): void {
    const at = this.#search(key);
    if (this.#keys[at] === key) this.#keys.splice(at, 1);
  }

  /** A page of keys (no copy of the whole list). */
  page(request: PageRequest): Page<string> {
    return pageOf(this.#keys, request);
  }

  /** First position whose key is ≥ `key`. */
  #search(key: string): number {
    let low = 0;
    let high = this.#keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
