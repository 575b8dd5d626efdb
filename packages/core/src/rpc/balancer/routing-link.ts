/**
 * The routing link: a remote call to a process with several replicas goes to the replica the balancer
 * picks; when that replica fails at the transport level, the call goes to another replica: to each
 * replica in turn while the call provably never ran (the connection was refused, or the replica answered
 * that it is shutting down), and once more for an idempotent method whose call may have run. Each failure counts against its replica
 * only, so one dead replica is taken out without failing calls or opening the service's breaker.
 */

import type { Invocation, Link } from '../../chain/link.js';
import type { CallContext } from '../../contract.js';
import { isBlueprintError, relayedFrom } from '../../errors.js';
import { type Replica, type ReplicaSet, routedTo } from './replica-set.js';

/** Why a call failed at the transport, if it did. */
type TransportFailure = 'not-sent' | 'maybe-sent' | undefined;

/** Classifies an error of a call sent to one replica. */
export function transportFailureOf(error: unknown): TransportFailure {
  if (!isBlueprintError(error) || error.code !== 'REMOTE_UNAVAILABLE') return undefined;
  if (relayedFrom(error) !== undefined) {
    // The replica itself answered that it is shutting down: it did not run the call.
    const reason = (error.details as { reason?: unknown } | undefined)?.reason;
    return reason === 'draining' ? 'not-sent' : undefined;
  }
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return cause?.code === 'ECONNREFUSED' ? 'not-sent' : 'maybe-sent';
}

/** The routing link of a process: `replicaSetOf(service)` gives the replicas of the owning process, if several. */
export function routingLink(replicaSetOf: (service: string) => ReplicaSet | undefined): Link {
  return {
    name: 'routing',
    stage: 'routing',
    wrap(target) {
      if (target.entry !== 'call' || target.placement !== 'remote' || target.contract === undefined)
        return undefined;
      const set = replicaSetOf(target.contract.name);
      if (set === undefined || set.replicas.length < 2) return undefined;
      const idempotent = target.definition?.idempotent === true;
      return (next: Invocation) => {
        /** Sends the call to `replica`, keeping its in-flight count and its health. */
        const send = (
          replica: Replica,
          input: unknown,
          context: CallContext | undefined,
        ): Promise<unknown> => {
          replica.inFlight++;
          return (next(input, routedTo(context, replica)) as Promise<unknown>).then(
            (result) => {
              replica.inFlight--;
              set.succeeded(replica);
              return result;
            },
            (error: unknown) => {
              replica.inFlight--;
              const failure = transportFailureOf(error);
              if (failure === undefined) set.succeeded(replica);
              else set.failed(replica, failure === 'not-sent');
              throw error;
            },
          );
        };
        /** After a transport failure: each other replica in turn while the call never ran, one more if idempotent. */
        const failOver = async (error: unknown, first: Replica, input: unknown, context?: CallContext) => {
          const tried = new Set<Replica>([first]);
          let resent = false;
          let last = error;
          for (;;) {
            const failure = transportFailureOf(last);
            if (failure === undefined || context?.signal?.aborted) throw last;
            if (failure === 'maybe-sent' && (!idempotent || resent)) throw last;
            if (failure === 'maybe-sent') resent = true;
            const replica = set.pick(tried);
            if (replica === undefined) throw last;
            tried.add(replica);
            try {
              return await send(replica, input, context);
            } catch (next) {
              last = next;
            }
          }
        };
        return (input: unknown, context?: CallContext) => {
          const first = set.pick()!;
          return send(first, input, context).catch((error: unknown) =>
            failOver(error, first, input, context),
          );
        };
      };
    },
  };
}
