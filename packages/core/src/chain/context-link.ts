/**
 * The context link (the `context` stage, first in every chain): a served call runs inside its request
 * context; a remote call made inside a request goes out with that request's deadline, headers and signal
 * where the caller passes none. A local call gets the same from the limits link (`limits-link.ts`), which
 * also runs the callee in that context. See `context/request-context.ts`.
 */

import { runWithRequestContext, withRequestContext } from '../context/request-context.js';
import type { CallContext } from '../contract.js';
import type { Link } from './link.js';

/**
 * The context link of a process. It stays out of local calls: the limits link completes their context
 * (and stays out of plain local calls, see `isPlainLocalCall`, whose implementation is called as it is
 * and whose calls read the request context themselves).
 */
export function contextLink(): Link {
  return {
    name: 'context',
    stage: 'context',
    wrap(target) {
      if (target.contract === undefined || target.definition === undefined) return undefined;
      if (target.entry === 'serve') {
        return (next) => (input: unknown, context?: CallContext) =>
          context === undefined
            ? next(input, context)
            : runWithRequestContext(context, () => next(input, context));
      }
      if (target.entry !== 'call' || target.placement === 'local') return undefined;
      return (next) => (input: unknown, context?: CallContext) => next(input, withRequestContext(context));
    },
  };
}
