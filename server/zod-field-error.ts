/**
 * The first zod issue of a request body as "field + reason", the shape every 400 answer uses. An unknown
 * key is named with the fields the body may have; an issue with the body itself is reported on `body`.
 */
import type { z } from 'zod';
import type { FieldError } from '../core/events.ts';

export function bodyFieldError(err: z.ZodError, expected: readonly string[], rootReason?: string): FieldError {
  const issue = err.issues[0];
  if (!issue) return { field: 'body', reason: 'invalid' };
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]);
    return { field: path ? `${path}.${key}` : key, reason: `unknown field; expected ${expected.join(', ')}` };
  }
  if (path === '') return { field: 'body', reason: rootReason ?? issue.message };
  return { field: path, reason: issue.message };
}
