/**
 * The zod pieces the policies' option schemas are made of. Each policy module has one schema for its
 * options; the fields a topology file may set too (`policies.*`) are shared with the `policies`
 * section, so an option has one type, one default and one check wherever it is written. Messages name
 * the bad value and what is allowed; core's `parseOptions` prefixes the subject and the option.
 */
import { type Backoff, durationSchema, exponentialBackoffSchema, parseOptions } from '@blueprint/core/plugin';
import { z } from 'zod';
import { ResilienceOptionsError } from '../errors.js';

/** A bad value as a message shows it. */
function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // a bigint, a cycle
  }
}

/** Parses hand-written options with `schema`; throws `RESILIENCE_INVALID_OPTIONS` naming `subject`. */
export function parsePolicyOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  subject: string,
): z.output<S> {
  return parseOptions(schema, value, { subject, error: ResilienceOptionsError });
}

/** A duration of at least `min` ms (`250`, `"250ms"`, `"2s"`); the parsed value is milliseconds. */
export function durationOf(min: number) {
  return durationSchema.pipe(
    z
      .number()
      .min(min, { error: (issue) => `use a duration of at least ${min} ms (got ${shown(issue.input)} ms)` }),
  );
}

/** A duration of `schema` (see {@link durationOf}), or `false` to turn the policy off at this level. */
export function durationOrOff(schema: ReturnType<typeof durationOf>) {
  return z.union([z.literal(false), schema], {
    error: (issue) =>
      `invalid duration ${shown(issue.input)}: write milliseconds as a number or a string like "250ms", "2s", or false to turn it off`,
  });
}

/**
 * A whole number within `[min, max]`, also written as a string of digits (a topology value from
 * `${ENV_VAR}` is a string).
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  const error = (issue: { readonly input?: unknown }) =>
    `use a whole number ${allowed} (got ${shown(issue.input)})`;
  return z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^\s*\d+\s*$/, { error })
          .transform(Number),
      ],
      { error },
    )
    .pipe(z.int({ error }).min(min, { error }).max(max, { error }));
}

/** A number within `[min, max]`; `what` says what is allowed in the message (`a ratio >= 0, e.g. 0.2`). */
export function numberWithin(min: number, max: number, what: string) {
  const error = (issue: { readonly input?: unknown }) => `use ${what} (got ${shown(issue.input)})`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/**
 * `false`, or a value of `schema`; `what` describes the value for a message that lists both. Not a zod
 * union: a union reports only that nothing matched, where this passes on what is wrong inside the value
 * (`retry.maxAttempts: ...`, or an unknown key that the topology reports as renamed).
 */
export function orOff<S extends z.ZodType>(schema: S, what: string) {
  return z.custom<false | z.input<S>>().transform((value, ctx): false | z.output<S> => {
    if (value === false) return false;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue(
        issue.path.length === 0 && issue.code === 'invalid_type'
          ? { code: 'custom', message: `use ${what}, or false to turn it off (got ${shown(value)})` }
          : ({ ...issue } as never),
      );
    }
    return z.NEVER;
  });
}

/** A function option. */
export function functionOf<F>() {
  return z.custom<F>((value) => typeof value === 'function', {
    error: (issue) => `use a function (got ${typeof issue.input})`,
  });
}

/**
 * An option that was renamed: accepted only when absent, so old code gets a message naming the new
 * option instead of "unknown option".
 */
export function renamedTo(option: string) {
  return z.undefined({ error: `this option was renamed: write ${option} instead` }).optional();
}

const delayListSchema = z.array(durationSchema).min(1, 'a list of delays needs at least one delay');

/**
 * Core's backoff shape as code writes it: exponential options (`{ initial, max, factor, jitter }`), a
 * list of delays, or a function of the attempt. Each form is checked by its own schema so a message
 * names the bad key (a union would only say that nothing matched).
 */
export const backoffOption = z.custom<Backoff>().superRefine((value, ctx) => {
  if (typeof value === 'function') return;
  const schema = Array.isArray(value)
    ? delayListSchema
    : typeof value === 'object' && value !== null
      ? exponentialBackoffSchema
      : undefined;
  if (schema === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `use { initial, max, factor, jitter }, a list of delays like ["1s", "5s"], or a function of the attempt (got ${shown(value)})`,
    });
    return;
  }
  const result = schema.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue } as never);
});
