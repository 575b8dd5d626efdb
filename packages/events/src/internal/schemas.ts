/** Zod pieces the bus and the transports' option schemas share. */
import { durationSchema, wholeNumberSchema } from '@blueprint/core/plugin';

/** A whole number of at least 1 (a number, or digits from an environment variable). */
export const atLeastOne = wholeNumberSchema(1);

/** A duration of at least 1 ms (0 reads as 1 ms): a period or a bound that must not be zero. */
export const positiveDuration = durationSchema.transform((ms) => Math.max(1, ms));
