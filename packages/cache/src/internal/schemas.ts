/** Option schemas the cache's own schemas share, on top of core's (`countSchema`, `durationSchema`, ...). */
import { countSchema } from '@blueprint/core/plugin';

/** A whole number of at least 1 (entries, thresholds); may come from an environment variable. */
export const positiveCountSchema = countSchema.refine((n) => n >= 1, { message: 'use a whole number >= 1' });
