import type { Context } from 'hono';
import type { Page, PageRequest } from '../../shared/ports/durable.ts';

/**
 * OWT's `?page=&per_page=` as one store call that skips (page-1) × per_page items, so a page
 * costs O(per_page) in memory and a keys-only pass in DynamoDB (page ≤ 1000, per_page ≤ 100);
 * `?cursor=` (from the X-Next-Cursor header) is the efficient way.
 */
export async function pageThrough<T>(
  c: Context,
  query: { page?: number | undefined; per_page: number; cursor?: string | undefined },
  list: (page: PageRequest) => Promise<Page<T>>,
): Promise<T[]> {
  const skip = ((query.page ?? 1) - 1) * query.per_page;
  const result = await list({
    limit: query.per_page,
    ...(skip > 0 ? { skip } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  if (result.cursor) c.header('X-Next-Cursor', result.cursor);
  return result.items;
}
