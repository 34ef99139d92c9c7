import { ValidationError } from '../../errors.ts';
import type { Page, PageRequest } from '../../ports/durable.ts';

/** Offset cursors over an ordered in-memory list. */
export function pageOf<T>(items: T[], page: PageRequest): Page<T> {
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
  const slice = items.slice(offset, offset + page.limit);
  const next = offset + slice.length;
  return next < items.length
    ? { items: slice, cursor: Buffer.from(String(next)).toString('base64url') }
    : { items: slice };
}
