/**
 * What `resiliencePlugin()` holds per process: the breaker registry, the policies it built (to dispose
 * them on stop), the per-service policies of remote dependencies, and the interceptor.
 */
import type {
  AnyContract,
  CallContext,
  InterceptionTarget,
  Invocation,
  MethodInterceptor,
  PluginContext,
} from '@blueprint/core';
import type { BreakerRegistry } from '../breaker-registry.js';
import { type BulkheadPolicy, bulkhead } from '../bulkhead.js';
import { type CircuitBreakerPolicy, circuitBreaker } from '../circuit-breaker.js';
import { type DecoratedPolicies, getDecoratedPolicies } from '../decorators.js';
import { shouldFallback } from '../errors.js';
import type { ResilienceInstruments } from '../instruments.js';
import { type PoliciesConfig, resolveMethodPolicies, resolveServicePolicies } from '../policies-config.js';
import { type Policy, wrap } from '../policy.js';
import { retry } from '../retry.js';
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

/** Options of the runtime. */
export interface RuntimeOptions {
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

/** Per-process state of the plugin. */
export class ResilienceRuntime {
  private readonly owned: Policy[] = [];
  private readonly services = new Map<string, ServicePolicies>();
  private readonly checkNames = new Set<string>();

  readonly interceptor: MethodInterceptor = {
    name: 'resilience',
    intercept: (target) => {
      if (target.kind === 'remote') return this.interceptRemote(target);
      const decorated = getDecoratedPolicies(target.instance, target.method);
      return decorated === undefined ? undefined : this.interceptDecorated(target, decorated);
    },
  };

  constructor(private readonly options: RuntimeOptions) {}

  /** Creates the per-service policies of a remote service now, so its breaker is listed before the first call. */
  prepareRemoteService(contract: AnyContract): void {
    this.servicePolicies(contract.name);
  }

  /** Disposes every policy built by this runtime: breakers leave the registry, timers are cleared. */
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
    const breaker =
      resolved.breaker === false
        ? undefined
        : this.own(
            circuitBreaker({
              name: service,
              failureRate: resolved.breaker.failureRate,
              minimumCalls: resolved.breaker.minimumCalls,
              consecutiveFailures: resolved.breaker.consecutiveFailures,
              window: resolved.breaker.window,
              halfOpenAfter: resolved.breaker.halfOpenAfter,
              registry: this.options.registry,
            }),
          );
    if (breaker !== undefined) {
      this.addBreakerCheck(breaker);
      this.options.instruments?.breaker(breaker);
    }
    const limit =
      resolved.bulkhead === false
        ? undefined
        : this.own(
            bulkhead({
              name: service,
              maxConcurrent: resolved.bulkhead.maxConcurrent,
              maxQueue: resolved.bulkhead.maxQueue,
              ...(resolved.bulkhead.maxWait === undefined ? {} : { maxWait: resolved.bulkhead.maxWait }),
            }),
          );
    if (limit !== undefined) this.options.instruments?.bulkhead(limit, service);
    const created: ServicePolicies = {
      breaker,
      bulkhead: limit,
      budget: resolved.budget === false ? undefined : retryBudget(resolved.budget),
    };
    this.services.set(service, created);
    return created;
  }

  private interceptRemote(target: InterceptionTarget): ((next: Invocation) => Invocation) | undefined {
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
    if (resolved.retry !== false && resolved.retry.maxAttempts > 1) {
      const retries = this.own(retry({ name: subject, ...resolved.retry, budget: service.budget ?? false }));
      this.options.instruments?.retry(retries, contract.name, method);
      chain.push(retries);
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

  private interceptDecorated(
    target: InterceptionTarget,
    decorated: DecoratedPolicies,
  ): ((next: Invocation) => Invocation) | undefined {
    const subject = `${target.className}.${target.method}`;
    const chain: Policy[] = [];
    const instruments = this.options.instruments;
    if (decorated.bulkhead) {
      const limit = this.own(bulkhead({ name: subject, ...decorated.bulkhead }));
      instruments?.bulkhead(limit, subject);
      chain.push(limit);
    }
    if (decorated.retry) {
      const retries = this.own(retry({ name: subject, ...decorated.retry }));
      instruments?.retry(retries, target.className, target.method);
      chain.push(retries);
    }
    if (decorated.breaker) {
      const breaker = this.own(
        circuitBreaker({ name: subject, ...decorated.breaker, registry: this.options.registry }),
      );
      this.addBreakerCheck(breaker);
      instruments?.breaker(breaker);
      chain.push(breaker);
    }
    const hasTimeout = decorated.timeout !== undefined;
    if (decorated.timeout !== undefined) chain.push(this.own(timeout(decorated.timeout, { name: subject })));
    const policy = wrap(...chain);
    const fallback = decorated.fallback;
    const instance = target.instance;
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
