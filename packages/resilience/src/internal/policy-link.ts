/**
 * The resilience link of a process (stage `policy` of core's call chain), and what it holds: the breaker
 * registry, the policies it built (to dispose them on stop) and the per-service policies of remote
 * dependencies.
 *
 * - `call` entries of remote methods get the topology's `policies`, from the outside in: fallback →
 *   bulkhead → deadline → retry → breaker → per-attempt timeout.
 * - `method` entries (hosted implementations and providers) get their decorators: fallback → bulkhead →
 *   retry → breaker → timeout.
 * - Every other entry (local calls, served calls) is left alone: a monolith has no breakers.
 */
import type { AnyContract, CallContext } from '@blueprint/core';
import type { Invocation, Link, LinkHandler, LinkTarget, PluginContext } from '@blueprint/core/plugin';
import type { CircuitBreakerPolicy } from '../breaker-policy.js';
import type { BreakerRegistry } from '../breaker-registry.js';
import { type BulkheadPolicy, bulkhead } from '../bulkhead.js';
import { circuitBreaker } from '../circuit-breaker.js';
import { type DecoratedPolicies, getDecoratedPolicies } from '../decorators.js';
import { shouldFallback } from '../errors.js';
import type { ResilienceInstruments } from '../instruments.js';
import { type PoliciesConfig, resolveMethodPolicies, resolveServicePolicies } from '../policies-config.js';
import { type Policy, wrap } from '../policy.js';
import { DEFAULT_MAX_ATTEMPTS, retry } from '../retry.js';
import { type RetryBudget, retryBudget } from '../retry-budget.js';
import { timeout } from '../timeout.js';
import { AttemptCallContext, policyContextOf, remoteCallContext } from './call-context.js';

/** A fallback of a remote method, from the plugin options. */
export type RemoteFallbackHandler = (
  error: unknown,
  input: unknown,
  context: CallContext | undefined,
) => unknown;

interface ServicePolicies {
  readonly breaker: CircuitBreakerPolicy | undefined;
  readonly bulkhead: BulkheadPolicy | undefined;
  readonly budget: RetryBudget | undefined;
}

/** Options of {@link ResiliencePolicies}. */
export interface ResiliencePoliciesOptions {
  /** The parsed `policies` section. */
  readonly config: PoliciesConfig | undefined;
  /** The process's breaker registry. */
  readonly registry: BreakerRegistry;
  /** Fallbacks of remote methods by `service.method`. */
  readonly fallbacks: Readonly<Record<string, RemoteFallbackHandler>>;
  /** Adds a readiness check; undefined when readiness checks are off. */
  readonly addHealthCheck: PluginContext['addHealthCheck'] | undefined;
  /** Metrics of the policies built; undefined outside an app. */
  readonly instruments?: ResilienceInstruments | undefined;
}

/** Per-process state of the plugin, and its link. */
export class ResiliencePolicies {
  private readonly owned: Policy[] = [];
  private readonly services = new Map<string, ServicePolicies>();
  private readonly checkNames = new Set<string>();

  /** The link `resiliencePlugin()` adds to the process's call chain. */
  readonly link: Link = {
    name: 'resilience',
    stage: 'policy',
    wrap: (target) => {
      if (target.entry === 'call') return target.placement === 'remote' ? this.wrapRemote(target) : undefined;
      if (target.entry !== 'method' || target.instance === undefined) return undefined;
      const decorated = getDecoratedPolicies(target.instance, target.method);
      return decorated === undefined ? undefined : this.wrapDecorated(target, target.instance, decorated);
    },
  };

  constructor(private readonly options: ResiliencePoliciesOptions) {}

  /** Creates the per-service policies of a remote service now, so its breaker is listed before the first call. */
  prepareRemoteService(contract: AnyContract): void {
    this.servicePolicies(contract.name);
  }

  /** Disposes every policy built here: breakers leave the registry, timers are cleared. */
  dispose(): void {
    for (const policy of this.owned.splice(0)) policy.dispose?.();
    this.services.clear();
    this.options.instruments?.dispose();
  }

  private own<P extends Policy>(policy: P): P {
    this.owned.push(policy);
    return policy;
  }

  private servicePolicies(service: string): ServicePolicies {
    const existing = this.services.get(service);
    if (existing !== undefined) return existing;
    const resolved = resolveServicePolicies(this.options.config, service);
    const created: ServicePolicies = {
      breaker: resolved.breaker === false ? undefined : this.breaker({ ...resolved.breaker, name: service }),
      bulkhead:
        resolved.bulkhead === false
          ? undefined
          : this.bulkhead({ ...resolved.bulkhead, name: service }, service),
      budget: resolved.budget === false ? undefined : retryBudget(resolved.budget),
    };
    this.services.set(service, created);
    return created;
  }

  private wrapRemote(target: LinkTarget): LinkHandler | undefined {
    const { contract, definition, method } = target;
    if (contract === undefined || definition === undefined) return undefined;
    const subject = `${contract.name}.${method}`;
    const service = this.servicePolicies(contract.name);
    const resolved = resolveMethodPolicies(
      this.options.config,
      contract.name,
      method,
      definition.idempotent === true,
    );
    const chain: Policy[] = [];
    if (service.bulkhead) chain.push(service.bulkhead);
    if (resolved.deadline !== false)
      chain.push(this.own(timeout(resolved.deadline, { name: `${subject} (deadline)` })));
    if (resolved.retry !== false && (resolved.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS) > 1) {
      chain.push(
        this.retry(
          { ...resolved.retry, name: subject, budget: service.budget ?? false },
          contract.name,
          method,
        ),
      );
    }
    if (service.breaker) chain.push(service.breaker);
    if (resolved.timeout !== false) chain.push(this.own(timeout(resolved.timeout, { name: subject })));
    const handler = this.options.fallbacks[subject];
    if (chain.length === 0 && handler === undefined) return undefined;
    const policy = wrap(...chain);
    return (next) => {
      const call = (input: unknown, context?: CallContext): Promise<unknown> =>
        policy.execute(
          (attempt) => next(input, remoteCallContext(context, attempt)),
          policyContextOf(context),
        );
      if (handler === undefined) return call;
      return (input: unknown, context?: CallContext) =>
        call(input, context).catch((error: unknown) => {
          if (!shouldFallback(error)) throw error;
          return handler(error, input, context);
        });
    };
  }

  private wrapDecorated(target: LinkTarget, instance: object, decorated: DecoratedPolicies): LinkHandler {
    const subject = `${target.className}.${target.method}`;
    const chain: Policy[] = [];
    if (decorated.bulkhead) chain.push(this.bulkhead({ name: subject, ...decorated.bulkhead }, subject));
    if (decorated.retry)
      chain.push(this.retry({ name: subject, ...decorated.retry }, target.className, target.method));
    if (decorated.breaker) chain.push(this.breaker({ name: subject, ...decorated.breaker }));
    const hasTimeout = decorated.timeout !== undefined;
    if (decorated.timeout !== undefined) chain.push(this.own(timeout(decorated.timeout, { name: subject })));
    const policy = wrap(...chain);
    const fallback = decorated.fallback;
    const isContractMethod = target.definition !== undefined;
    return (next) => {
      const call: Invocation = isContractMethod
        ? (input: unknown, context?: CallContext) =>
            policy.execute(
              (attempt) => next(input, hasTimeout ? new AttemptCallContext(context, attempt) : context),
              policyContextOf(context),
            )
        : (...args: unknown[]) => policy.execute(() => next(...args));
      if (fallback === undefined) return call;
      const when = fallback.options.when ?? shouldFallback;
      return (...args: unknown[]) =>
        (call(...args) as Promise<unknown>).catch((error: unknown) => {
          if (!when(error)) throw error;
          return fallback.handler.call(instance, error, ...args);
        });
    };
  }

  private breaker(options: Parameters<typeof circuitBreaker>[0]): CircuitBreakerPolicy {
    const breaker = this.own(circuitBreaker({ ...options, registry: this.options.registry }));
    this.addBreakerCheck(breaker);
    this.options.instruments?.breaker(breaker);
    return breaker;
  }

  private bulkhead(options: Parameters<typeof bulkhead>[0], name: string): BulkheadPolicy {
    const limit = this.own(bulkhead(options));
    this.options.instruments?.bulkhead(limit, name);
    return limit;
  }

  private retry(options: Parameters<typeof retry>[0], service: string, method: string): Policy {
    const retries = this.own(retry(options));
    this.options.instruments?.retry(retries, service, method);
    return retries;
  }

  private addBreakerCheck(breaker: CircuitBreakerPolicy): void {
    const add = this.options.addHealthCheck;
    if (add === undefined) return;
    let name = `breaker:${breaker.name}`;
    for (let n = 2; this.checkNames.has(name); n++) name = `breaker:${breaker.name}#${n}`;
    this.checkNames.add(name);
    add(name, () => {
      const stats = breaker.stats();
      return {
        ok: stats.state !== 'open',
        details: {
          state: stats.state,
          failures: stats.failures,
          calls: stats.calls,
          consecutiveFailures: stats.consecutiveFailures,
          retryAfterMs: stats.retryAfterMs,
          lastFailure: stats.lastFailure,
        },
      };
    });
  }
}
