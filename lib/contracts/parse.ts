/** Parsing what crosses a process boundary, naming what and where it is malformed. */
import type { z } from 'zod';
import { InvalidPayloadError } from '../errors.js';

/** Parses `value` with `schema`, naming `what` and the first bad field on failure. */
export function parsePayload<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new InvalidPayloadError(`invalid ${what}${path}: ${issue?.message ?? 'malformed'}`);
}
