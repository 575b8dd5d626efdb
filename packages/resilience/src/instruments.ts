/**
 * Metrics and logs of the policies `resiliencePlugin()` builds: breaker states (read on every scrape),
 * breaker and bulkhead rejections, retries, and a log line when a breaker opens or closes.
 */
import type { Telemetry } from '@blueprint/core';
import type { CircuitBreakerPolicy, CircuitState } from './breaker-policy.js';
import type { BreakerRegistry } from './breaker-registry.js';
import type { BulkheadPolicy } from './bulkhead.js';
import type { RetryPolicy } from './retry.js';

/** Names of the resilience metrics. */
export const RESILIENCE_METRICS = {
  /**
   * Gauge `{service}`: the state of each breaker, 0 closed, 1 half-open, 2 open. `service` is the
   * breaker's name: the remote service, or `Class.method` for `@CircuitBreaker`.
   */
  breakerState: 'blueprint_breaker_state',
  /** Counter `{service}` of calls a breaker rejected without running them. */
  breakerRejections: 'blueprint_breaker_rejections_total',
  /** Counter `{service, method}` of retries (attempts after the first). */
  retries: 'blueprint_retries_total',
  /** Counter `{service}` of calls a bulkhead rejected (full, waited too long, or stopped). */
  bulkheadRejections: 'blueprint_bulkhead_rejections_total',
} as const;

/** The value of `blueprint_breaker_state` for each state. */
export const BREAKER_STATE_VALUES: Readonly<Record<CircuitState, number>> = Object.freeze({
  closed: 0,
  'half-open': 1,
  open: 2,
});

interface Incrementable {
  inc(): void;
}

interface LabelledCounter {
  labels(...values: string[]): Incrementable;
}

/**
 * Connects the policies of one process to its telemetry. Listeners are removed by {@link dispose}.
 * @internal
 */
export class ResilienceInstruments {
  private readonly unsubscribes: (() => void)[] = [];
  private readonly breakerRejections: LabelledCounter | undefined;
  private readonly bulkheadRejections: LabelledCounter | undefined;
  private readonly retries: LabelledCounter | undefined;

  constructor(telemetry: Telemetry, registry: BreakerRegistry) {
    const logger = telemetry.logger.child({ component: 'resilience' });
    this.unsubscribes.push(
      registry.onStateChange((change) => {
        const fields = { breaker: change.breaker, from: change.from, to: change.to };
        if (change.to === 'open') {
          const retryAfterMs = registry.get(change.breaker)?.stats().retryAfterMs;
          logger.warn(
            { ...fields, retryAfterMs, err: change.error },
            `circuit breaker "${change.breaker}" opened: calls fail fast`,
          );
        } else if (change.to === 'closed') {
          logger.info(fields, `circuit breaker "${change.breaker}" closed: calls flow again`);
        } else logger.debug(fields, `circuit breaker "${change.breaker}" is half-open: one probe runs`);
      }),
    );
    const { metrics } = telemetry;
    if (!metrics.enabled) return;
    metrics.gauge({
      name: RESILIENCE_METRICS.breakerState,
      help: 'State of each circuit breaker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['service'],
      collect() {
        const worst = new Map<string, number>();
        for (const stats of registry.snapshot()) {
          const value = BREAKER_STATE_VALUES[stats.state];
          worst.set(stats.name, Math.max(value, worst.get(stats.name) ?? 0));
        }
        this.reset();
        for (const [service, value] of worst) this.set({ service }, value);
      },
    });
    this.breakerRejections = metrics.counter({
      name: RESILIENCE_METRICS.breakerRejections,
      help: 'Calls a circuit breaker rejected without running them, by breaker.',
      labelNames: ['service'],
    });
    this.bulkheadRejections = metrics.counter({
      name: RESILIENCE_METRICS.bulkheadRejections,
      help: 'Calls a bulkhead rejected (all slots busy and the queue full, or waited past maxWait), by bulkhead.',
      labelNames: ['service'],
    });
    this.retries = metrics.counter({
      name: RESILIENCE_METRICS.retries,
      help: 'Retries of calls (attempts after the first), by service and method.',
      labelNames: ['service', 'method'],
    });
  }

  /** Counts the rejections of `breaker` under its name. */
  breaker(breaker: CircuitBreakerPolicy): void {
    const rejections = this.breakerRejections?.labels(breaker.name);
    if (rejections !== undefined) this.unsubscribes.push(breaker.onReject(() => rejections.inc()));
  }

  /** Counts the rejections of `bulkhead` under `name`. */
  bulkhead(bulkhead: BulkheadPolicy, name: string): void {
    const rejections = this.bulkheadRejections?.labels(name);
    if (rejections !== undefined) this.unsubscribes.push(bulkhead.onReject(() => rejections.inc()));
  }

  /** Counts the retries of `policy` under `service` and `method`. */
  retry(policy: RetryPolicy, service: string, method: string): void {
    const retries = this.retries?.labels(service, method);
    if (retries !== undefined) this.unsubscribes.push(policy.onRetry(() => retries.inc()));
  }

  /** Removes every listener. */
  dispose(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
