/** The injection tokens core registers in every process container. */
import type { InjectionToken } from 'tsyringe';
import type { AppDefinition } from '../app.js';
import type { Codec } from '../codec.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ProcessTopology, Topology } from '../topology.js';
import type { HealthRegistry } from './health.js';

/**
 * Tokens core registers in every process container. Every package names its tokens the same way:
 * `CoreTokens`, `CacheTokens`, `EventsTokens`, `ResilienceTokens`.
 *
 * @example
 * constructor(@inject(CoreTokens.Settings) settings: Settings) {}
 */
export const CoreTokens = {
  /** The {@link AppDefinition}. */
  App: Symbol.for('blueprint:app') as InjectionToken<AppDefinition>,
  /** The validated {@link Topology}. */
  Topology: Symbol.for('blueprint:topology') as InjectionToken<Topology>,
  /** This process: `{ name, services, address? }`. */
  Process: Symbol.for('blueprint:process') as InjectionToken<ProcessTopology & { name: string }>,
  /** The codec shared by RPC, events and cache. */
  Codec: Symbol.for('blueprint:codec') as InjectionToken<Codec>,
  /** The topology's `settings`: `Readonly<Record<string, string | number | boolean>>`. */
  Settings: Symbol.for('blueprint:settings') as InjectionToken<
    Readonly<Record<string, string | number | boolean>>
  >,
  /** This process's {@link HealthRegistry}: services add readiness checks (their database, ...). */
  Health: Symbol.for('blueprint:health') as InjectionToken<HealthRegistry>,
  /** This process's {@link Telemetry}: `{ logger, metrics, tracer, startSpan, ... }`. */
  Telemetry: Symbol.for('blueprint:telemetry') as InjectionToken<Telemetry>,
} as const;
