import type * as resilience from '@blueprint/resilience';

// #region interfaces
interface Policy {
  execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T, context?: PolicyContext): Promise<T>;
  dispose?(): void; // releases timers and registrations (an app calls it on stop)
}
interface PolicyContext {
  readonly signal?: AbortSignal | undefined; // aborted when the caller gives up or a timeout/deadline fires
  readonly deadline?: number | undefined; // absolute, epoch ms; inner timeouts never run past it
  readonly attempt?: number | undefined; // 1, 2, ... inside a retry
}
// #endregion interfaces

/** `true` when the README's shape and the package's type accept the same values. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Fails to compile when the interfaces above drift from `@blueprint/resilience`'s. */
export const policyMatches: Same<Policy, resilience.Policy> = true;
/** Fails to compile when the context drifts. */
export const contextMatches: Same<PolicyContext, resilience.PolicyContext> = true;
