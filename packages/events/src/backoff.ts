/**
 * Backoff between attempts of a failing handler. A retry always waits: there is no immediate redelivery.
 */
import { EventsError } from './errors.js';
import { durationOption } from './option-values.js';

/** Exponential backoff: `initial × factor^(attempt-1)`, capped at `max`, stretched by up to `jitter`. */
export interface ExponentialBackoff {
  /** Delay after the first failure: milliseconds or a duration string (`"250ms"`). Default: 100 ms. */
  readonly initial?: number | string;
  /** Largest delay. Default: 30 s. */
  readonly max?: number | string;
  /** Growth per attempt, at least 1. Default: 2. */
  readonly factor?: number;
  /**
   * Random stretch, from 0 to 1: each delay is multiplied by a random number between 1 and `1 + jitter`,
   * so replicas that failed together do not retry together. Never shortens a delay. Default: 0.2.
   */
  readonly jitter?: number;
}

/**
 * How long to wait before the next attempt: exponential options, a list of delays (the last one repeats),
 * or a function of the attempt that failed (1 for the first delivery) returning milliseconds.
 *
 * @example
 * { initial: '200ms', max: '1m' }
 * [1000, 5000, 30000]
 * (attempt) => attempt * 1000
 */
export type Backoff = ExponentialBackoff | readonly (number | string)[] | ((attempt: number) => number);

/** A backoff ready to use: the delay in ms after failed attempt `attempt` (1-based), at least 1 ms. */
export type BackoffFunction = (attempt: number) => number;

/** Defaults of {@link ExponentialBackoff}. */
export const DEFAULT_BACKOFF = { initial: 100, max: 30_000, factor: 2, jitter: 0.2 } as const;

/** Turns a {@link Backoff} into a function; throws `EVENTS_HANDLER_INVALID` for bad values. */
export function toBackoffFunction(backoff: Backoff = {}): BackoffFunction {
  if (typeof backoff === 'function') return (attempt) => Math.max(1, backoff(attempt) || 0);
  if (Array.isArray(backoff)) {
    const list = (backoff as readonly (number | string)[]).map((d, i) =>
      Math.max(1, durationOption(d, 0, `backoff delay #${i + 1}`, 'EVENTS_HANDLER_INVALID')),
    );
    if (list.length === 0) {
      throw new EventsError('EVENTS_HANDLER_INVALID', 'a backoff list needs at least one delay, e.g. [1000]');
    }
    return (attempt) => list[Math.min(attempt, list.length) - 1]!;
  }
  const options = backoff as ExponentialBackoff;
  const initial = Math.max(
    1,
    durationOption(options.initial, DEFAULT_BACKOFF.initial, 'backoff initial', 'EVENTS_HANDLER_INVALID'),
  );
  const max = Math.max(
    initial,
    durationOption(options.max, DEFAULT_BACKOFF.max, 'backoff max', 'EVENTS_HANDLER_INVALID'),
  );
  const factor = options.factor ?? DEFAULT_BACKOFF.factor;
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  if (!(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new EventsError(
      'EVENTS_HANDLER_INVALID',
      `invalid backoff factor ${factor} or jitter ${jitter}: factor must be >= 1 and jitter between 0 and 1`,
    );
  }
  return (attempt) => {
    const base = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
    return Math.round(base * (1 + jitter * Math.random()));
  };
}
