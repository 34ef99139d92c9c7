import type { Context } from 'hono';
import type { Page, PageRequest } from '../../shared/ports/durable.ts';

/**
 * OWT's `?page=&per_page=` over cursor paging: page N walks N-1 pages of cursors, so OWT
 * clients keep working; `?cursor=` (from the X-Next-Cursor header) is the efficient way.
 */
export async function pageThrough<T>(
  c: Context,
  query: { page?: number | undefined; per_page: number; cursor?: string | undefined },
  list: (page: PageRequest) => Promise<Page<T>>,
): Promise<T[]> {
  let request: PageRequest = { limit: query.per_page, ...(query.cursor ? { cursor: query.cursor } : {}) };
  let result = await list(request);
  for (let n = 1; n < (query.page ?? 1); n++) {
    if (!result.cursor) return [];
    request = { limit: query.per_page, cursor: result.cursor };
    result = await list(request);
  }
  if (result.cursor) c.header('X-Next-Cursor', result.cursor);
  return result.items;
}
