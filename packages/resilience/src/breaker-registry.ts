/**
 * The breaker registry: every breaker of a process registers itself here, so readiness checks,
 * metrics and an operator's endpoint can list name, state and counts.
 */
import type { InjectionToken } from '@blueprint/core';
import type { CircuitBreakerPolicy, CircuitBreakerStats, CircuitStateChange } from './breaker-policy.js';

/**
 * The breakers of one process (or of whatever scope created the registry). `resiliencePlugin()`
 * registers one per app process in the container under {@link ResilienceTokens.BreakerRegistry};
 * hand-built breakers join one through their `registry` option.
 *
 * @example
 * const registry = app.resolve(ResilienceTokens.BreakerRegistry);
 * for (const stats of registry.snapshot()) console.log(stats.name, stats.state, stats.failures);
 */
export class BreakerRegistry {
  private readonly breakers = new Map<CircuitBreakerPolicy, () => void>();
  private listeners: ((change: CircuitStateChange) => void)[] = [];

  /** Adds a breaker; returns a function that removes it. A breaker registered twice is kept once. */
  register(breaker: CircuitBreakerPolicy): () => void {
    if (!this.breakers.has(breaker)) {
      const unsubscribe = breaker.onStateChange((change) => {
        for (const listener of this.listeners) listener(change);
      });
      this.breakers.set(breaker, unsubscribe);
    }
    return () => this.unregister(breaker);
  }

  /** Removes a breaker (a no-op when it is not registered). */
  unregister(breaker: CircuitBreakerPolicy): void {
    const unsubscribe = this.breakers.get(breaker);
    if (unsubscribe === undefined) return;
    unsubscribe();
    this.breakers.delete(breaker);
  }

  /** The registered breakers, in registration order. */
  list(): readonly CircuitBreakerPolicy[] {
    return [...this.breakers.keys()];
  }

  /** The first registered breaker with this name. */
  get(name: string): CircuitBreakerPolicy | undefined {
    for (const breaker of this.breakers.keys()) if (breaker.name === name) return breaker;
    return undefined;
  }

  /** Name, state and counts of every registered breaker. */
  snapshot(): CircuitBreakerStats[] {
    return this.list().map((breaker) => breaker.stats());
  }

  /** Calls `listener` on every state change of every registered breaker; returns a function that removes it. */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}

/** Tokens `resiliencePlugin()` registers in every process container. */
export const ResilienceTokens = {
  /** The process's {@link BreakerRegistry}: every breaker of the process, remote and decorated. */
  BreakerRegistry: Symbol.for('blueprint:resilience:breakers') as InjectionToken<BreakerRegistry>,
} as const;
