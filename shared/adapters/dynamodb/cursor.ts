import { ValidationError } from '../../errors.ts';

/** DynamoDB's LastEvaluatedKey as an opaque cursor, and back (validated: it comes from callers). */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(
  cursor: string | undefined,
  keyNames: string[],
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'not a cursor from a previous page' },
  ]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalid;
  }
  if (!key || typeof key !== 'object') throw invalid;
  const entries = Object.entries(key);
  if (
    entries.length !== keyNames.length ||
    !entries.every(([k, v]) => keyNames.includes(k) && typeof v === 'string' && v.length < 1024)
  ) {
    throw invalid;
  }
  return key as Record<string, string>;
}
