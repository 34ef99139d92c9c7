import type { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** One problem with an input: where (a dotted path, `(root)` for the value itself) and what. */
export interface Issue {
  path: string;
  message: string;
}

/** A hostile input can fail on thousands of fields: this many are listed, this many described. */
const LISTED = 50;
const DESCRIBED = 8;

/** A zod error's issues (the first fifty) as `{path, message}`. */
export function issuesOf(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): Issue[] {
  return error.issues
    .slice(0, LISTED)
    .map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

export const describeIssue = (issue: Issue): string => `${issue.path}: ${issue.message}`;

/** "path: message; path: message", the first few (of `total`, when more were found than listed). */
export function describeIssues(issues: readonly Issue[], max = DESCRIBED, total = issues.length): string {
  const more = total > max ? `; and ${total - Math.min(max, issues.length)} more` : '';
  return issues.slice(0, max).map(describeIssue).join('; ') + more;
}

/** The 400 for a failed check: "invalid <what>: path: message; …", with every issue listed. */
export function invalidInput(
  what: string,
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
): ValidationError {
  const issues = issuesOf(error);
  return new ValidationError(
    `invalid ${what}: ${describeIssues(issues, DESCRIBED, error.issues.length)}`,
    issues,
  );
}

/** The value as the schema reads it, or a ValidationError naming `what` and its issues. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(what, parsed.error);
  return parsed.data;
}
