/** The limits an RPC server runs with: those its options give, each one left out taken from the defaults. */
import { durationSchema } from '../units.js';

/** A timeout in an RPC driver's options: a duration above zero. */
export const positiveTimeoutSchema = durationSchema.refine((ms) => ms > 0, {
  message: 'use a duration above zero: a server without this timeout lets a slow client hold it forever',
});

/**
 * `defaults` with every limit `given` sets (not undefined) in its place; keys of `given` that are not
 * limits (the server's other options) are left out.
 *
 * @example
 * const limits = limitsWithDefaults(options, DEFAULT_TCP_SERVER_LIMITS);
 */
export function limitsWithDefaults<Limits extends object>(given: Partial<Limits>, defaults: Limits): Limits {
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof Limits)[]) {
    const value = given[key];
    if (value !== undefined) limits[key] = value as Limits[keyof Limits];
  }
  return limits;
}
