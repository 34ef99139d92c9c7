import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.ts';
import { describeIssues, invalidInput, issuesOf, parseOrThrow } from '../../shared/protocol/issues.ts';

const Schema = z.object({ name: z.string(), tags: z.array(z.number()) });

describe('zod issues, told once', () => {
  it('names every field by its dotted path, and the value itself as (root)', () => {
    const nested = Schema.safeParse({ name: 1, tags: [1, 'x'] });
    expect(issuesOf(nested.error!).map((i) => i.path)).toEqual(['name', 'tags.1']);
    expect(issuesOf(Schema.safeParse('text').error!)).toEqual([
      { path: '(root)', message: expect.stringContaining('object') },
    ]);
  });

  it('parses, or throws a ValidationError that says what was invalid and why', () => {
    expect(parseOrThrow(Schema, { name: 'a', tags: [] }, 'room')).toEqual({ name: 'a', tags: [] });
    const error = (() => {
      try {
        parseOrThrow(Schema, { name: 'a', tags: ['x'] }, 'room');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).publicMessage).toMatch(/^invalid room: tags\.0: /);
    expect((error as ValidationError).details).toEqual({
      issues: [{ path: 'tags.0', message: expect.any(String) }],
    });
  });

  it('bounds what a hostile input makes it say', () => {
    const error = z.array(z.number()).safeParse(Array.from({ length: 5000 }, () => 'x')).error!;
    expect(issuesOf(error)).toHaveLength(50);
    const message = invalidInput('body', error).publicMessage;
    expect(message.split('; ')).toHaveLength(9);
    expect(message).toMatch(/; and 4992 more$/);
    expect(describeIssues([])).toBe('');
  });
});
