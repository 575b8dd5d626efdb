/**
 * The context link (the `context` stage, first in every chain): a served call runs inside its request
 * context; a call made inside a request goes out with that request's deadline, headers and signal where
 * the caller passes none. See `context/request-context.ts`.
 */

import { runWithRequestContext, withRequestContext } from '../context/request-context.js';
import type { CallContext } from '../contract.js';
import type { Link } from './link.js';
import { isPlainLocalCall, type LocalCallOptions } from './validation-link.js';

/**
 * The context link of a process. It stays out of plain local calls (see {@link isPlainLocalCall}): the
 * implementation is then called as it is, and the calls it makes read the request context themselves.
 */
export function contextLink(local: LocalCallOptions): Link {
  const plain = isPlainLocalCall(local);
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
      if (target.entry !== 'call' || (plain && target.placement === 'local')) return undefined;
      return (next) => (input: unknown, context?: CallContext) => next(input, withRequestContext(context));
    },
  };
}
