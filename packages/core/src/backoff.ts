/**
 * Backoff: how long to wait before the next attempt. One shape for every package: retries of remote
 * calls (`@blueprint/resilience`), redeliveries of failed event handlers (`@blueprint/events`), and the
 * reconnects of brokers. A strategy is a value, as in cockatiel: exponential options, a list of delays,
 * or a function of the attempt.
 */
import { z } from 'zod';
import type { CodedErrorClass } from './errors.js';
import { parseOptions } from './options.js';
import { type Duration, durationSchema } from './units.js';

/** Exponential backoff: `initial × factor^(attempt-1)`, capped at `max`, spread by `jitter`. */
export interface ExponentialBackoff {
  /** Delay after the first failure. Default: the consumer's (100 ms for retries and handlers). */
  readonly initial?: Duration;
  /** Largest delay. Default: the consumer's (2 s for retries, 30 s for handlers). */
  readonly max?: Duration;
  /** Growth per attempt, at least 1. Default: 2. */
  readonly factor?: number;
  /**
   * How delays are spread so callers that failed together do not come back together:
   * `"full"` waits a random time between 0 and the delay (AWS's "full jitter"); a number from 0 to 1
   * stretches each delay by a random factor between 1 and `1 + jitter` (never shorter); `"none"` (or 0)
   * waits the delay itself. Default: the consumer's (`"full"` for retries, 0.2 for handlers).
   */
  readonly jitter?: 'full' | 'none' | number;
}

/**
 * A backoff strategy: exponential options, a list of delays (the last one repeats), or a function of the
 * failed attempt (1 for the first) returning milliseconds.
 *
 * @example
 * { initial: '200ms', max: '1m' }
 * ['1s', '5s', '30s']
 * (attempt) => attempt * 1000
 */
export type Backoff = ExponentialBackoff | readonly Duration[] | ((attempt: number) => number);

/** A backoff ready to use: the delay in ms after failed attempt `attempt` (1-based). */
export type BackoffFunction = (attempt: number) => number;

const exponentialShape = {
  /** Delay after the first failure. */
  initial: durationSchema.optional(),
  /** Largest delay. */
  max: durationSchema.optional(),
  /** Growth per attempt (>= 1). */
  factor: z.number().min(1, 'use a factor >= 1').optional(),
  /** `"full"`, `"none"`, or a stretch from 0 to 1. */
  jitter: z
    .union([z.enum(['full', 'none']), z.number().min(0).max(1)], {
      error: (issue) =>
        `invalid jitter ${JSON.stringify(issue.input)}: use "full", "none" or a number from 0 to 1`,
    })
    .optional(),
};

/** Zod schema of the exponential form, as topology files write it. */
export const exponentialBackoffSchema = z.strictObject(exponentialShape);

const delayListSchema = z.array(durationSchema).min(1, 'a list of delays needs at least one delay');

/** The parsed form of a backoff from a topology file: exponential options (ms) or a list of delays (ms). */
export type BackoffConfig = z.output<typeof exponentialBackoffSchema> | number[];

/**
 * Zod schema of a backoff in a topology file: the exponential form (`{ "initial": "100ms", "max": "2s",
 * "factor": 2, "jitter": "full" }`) or a list of delays (`["1s", "5s", "30s"]`). The form is chosen by
 * shape, so a problem inside it (a bad `initial`, an unknown key) is reported as it is.
 */
export const backoffSchema: z.ZodType<BackoffConfig, unknown> = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'object' || value === null) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid backoff ${JSON.stringify(value) ?? String(value)}: use { "initial", "max", "factor", "jitter" } or a list of delays like ["1s", "5s"]`,
    });
    return z.NEVER;
  }
  const result = (Array.isArray(value) ? delayListSchema : exponentialBackoffSchema).safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as never);
  return z.NEVER;
});

/** Defaults a consumer fills in for the exponential form. */
export interface BackoffDefaults {
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: 'full' | 'none' | number;
}

/** Options of {@link toBackoffFunction}. */
export interface ToBackoffOptions {
  /** Defaults of the exponential form's keys. */
  readonly defaults: BackoffDefaults;
  /** What the backoff belongs to, for messages, e.g. `retry(options).backoff`. */
  readonly subject: string;
  /** The coded error class for invalid values. Default: core's `OptionsError`. */
  readonly error?: CodedErrorClass;
  /** Random source in `[0, 1)`. Default: `Math.random`. */
  readonly random?: () => number;
}

/**
 * Turns a {@link Backoff} into a function of the failed attempt. Checks the values once, with a coded
 * error naming the subject and the bad key.
 *
 * @example
 * const delay = toBackoffFunction({ initial: '50ms' }, { defaults: { initial: 100, max: 2000, factor: 2, jitter: 'full' }, subject: 'retry' });
 * delay(1); // a random wait between 0 and 50 ms
 */
export function toBackoffFunction(backoff: Backoff | undefined, options: ToBackoffOptions): BackoffFunction {
  if (typeof backoff === 'function') return (attempt) => Math.max(0, backoff(attempt) || 0);
  const random = options.random ?? Math.random;
  const parsed = parseOptions(backoffSchema, backoff ?? {}, {
    subject: options.subject,
    ...(options.error === undefined ? {} : { error: options.error }),
  });
  if (Array.isArray(parsed)) {
    const list = parsed as readonly number[];
    return (attempt) => list[Math.min(Math.max(attempt, 1), list.length) - 1]!;
  }
  const exponential = parsed as z.output<typeof exponentialBackoffSchema>;
  const initial = exponential.initial ?? options.defaults.initial;
  const max = Math.max(initial, exponential.max ?? options.defaults.max);
  const factor = exponential.factor ?? options.defaults.factor;
  const jitter = exponential.jitter ?? options.defaults.jitter;
  const ceiling = (attempt: number) => Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  if (jitter === 'full') return (attempt) => Math.floor(random() * ceiling(attempt));
  if (jitter === 'none' || jitter === 0) return ceiling;
  return (attempt) => Math.round(ceiling(attempt) * (1 + jitter * random()));
}
