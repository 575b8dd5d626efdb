/**
 * The greeter's contract: what callers see. The web service depends on this, never on the class that
 * implements it, so the topology may put the greeter in the same process or in another one.
 */
import { defineService } from '@blueprint/core';
import { z } from 'zod';

/** Where a call was served: shows whether it crossed processes. */
export const ServedBy = z.object({ process: z.string(), pid: z.number().int() });

/** The `greeter` service. */
export const Greeter = defineService(
  'greeter',
  {
    hello: {
      input: z.object({ name: z.string().trim().min(1).max(64) }),
      output: z.object({ message: z.string(), servedBy: ServedBy }),
      idempotent: true,
      description: 'Greets someone by name and says which process answered.',
    },
  },
  { description: 'Greets people.' },
);
