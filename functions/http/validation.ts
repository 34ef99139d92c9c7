import type { Hook } from '@hono/zod-openapi';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.ts';
import { invalidInput } from '../../shared/protocol/issues.ts';

/** zod-openapi's validation hook: a failed check becomes a 400 with every field's problem. */
// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (!result.success) throw invalidInput(result.target, result.error);
};

/** `If-Match: "3"` (or W/"3", or 3) → 3; absent → undefined; anything else is a 400. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = header.trim().match(/^(?:W\/)?"?(\d{1,15})"?$/);
  if (!match)
    throw new ValidationError('invalid If-Match', [
      { path: 'If-Match', message: 'expected a version ETag such as "3"' },
    ]);
  return Number(match[1]);
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.number().int(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const errorResponses = Object.fromEntries(
  [
    [400, 'invalid request (1301)'],
    [401, 'missing, forged or expired credentials (1101)'],
    [403, "another service's resource, or a missing permission (1102)"],
    [404, 'not found (1001-1005)'],
    [409, 'exists already, or changed since read (1302)'],
    [501, 'asks for a feature this server does not have yet, named in the message (1202)'],
    [503, 'a store or the cluster is unavailable (1201, 1401)'],
  ].map(([status, description]) => [
    status,
    { description, content: { 'application/json': { schema: ErrorSchema } } },
  ]),
) as Record<
  400 | 401 | 403 | 404 | 409 | 501 | 503,
  { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }
>;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

export const PageQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1000).optional(),
  per_page: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

/** Every management route accepts either scheme (see ManagementAuth). */
export const security: Record<string, string[]>[] = [{ bearer: [] }, { mauth: [] }];
