/**
 * Options given in code (a policy, a store, a transport built by hand) are checked by the same zod
 * schema that checks them in a topology file, so there is one source of an option's type, default and
 * rules, and one wording of its errors.
 */
import type { z } from 'zod';
import { type CodedErrorClass, OptionsError } from './errors.js';

/** Options of {@link parseOptions}. */
export interface ParseOptionsOptions {
  /** What the options configure, for messages: `retry(options)`, `@Cached on ProductsService.get`. */
  readonly subject: string;
  /** The coded error class to throw. Default: core's {@link OptionsError} (`OPTIONS_INVALID`). */
  readonly error?: CodedErrorClass;
}

function describePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`;
  return out.startsWith('.') ? out.slice(1) : out;
}

/**
 * Parses `value` with `schema` and returns the output (defaults filled in, durations in milliseconds).
 * Throws a coded error listing every problem as `<subject>: <option>: <what is wrong and the fix>`.
 *
 * @example
 * const options = parseOptions(retrySchema, input, { subject: 'retry(options)', error: ResilienceOptionsError });
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: ParseOptionsOptions,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const at = describePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => `${at === '' ? '' : `${at}.`}${key}: unknown option; remove it or fix its spelling`)
        .join('; ');
    }
    return at === '' ? issue.message : `${at}: ${issue.message}`;
  });
  const ErrorClass = options.error ?? OptionsError;
  throw new ErrorClass(`${options.subject}: ${issues.join('; ')}`, {
    details: { subject: options.subject, issues },
  });
}
