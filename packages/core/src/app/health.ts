/**
 * Health of a process: the readiness checks services and plugins add, and the report operators read at
 * `GET /health/ready` (and `app.readiness()`).
 */
import { AppDefinitionError } from '../errors.js';

/** What a readiness check reports. */
export interface HealthCheckResult {
  /** True when the dependency answers. */
  readonly ok: boolean;
  /** Short JSON-safe facts for operators (state, latency, error code). */
  readonly details?: unknown;
}

/** A readiness check for one dependency; it should answer within a second. */
export type HealthCheck = () => Promise<HealthCheckResult> | HealthCheckResult;

/** One check's result in a readiness report. */
export interface ReadinessCheck extends HealthCheckResult {
  /** False for a check reported as information only: it does not make the process not-ready. */
  readonly required: boolean;
}

/** Readiness of a process: each check with its result. */
export interface ReadinessReport {
  /** True when the process is started and every required check is ok. */
  readonly ok: boolean;
  /** Results by check name (`rpc:products`, `redis:cache`, ...). */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

/** Options of {@link HealthRegistry.add}. */
export interface HealthCheckOptions {
  /**
   * What the check is about: `"own"` (a listener or store the process needs to serve; it is not ready
   * without it) or `"dependency"` (a service or broker it calls: reported, and required only when the
   * topology's `readiness.dependencies` is `"required"`). Default: `"own"`.
   */
  readonly kind?: 'own' | 'dependency';
}

/** Readiness checks of a process. Plugins add theirs through the plugin context; services inject it. */
export interface HealthRegistry {
  /** Adds a readiness check reported under `name`. Names are unique per process. */
  add(name: string, check: HealthCheck, options?: HealthCheckOptions): void;
  /** Runs every check. */
  readiness(): Promise<ReadinessReport>;
}

/**
 * Creates the health registry of a process. `started` tells whether the process serves yet: before, and
 * while stopping, the report is not ok whatever the checks say. With `dependenciesRequired`, dependency
 * checks count like the process's own.
 */
export function createHealthRegistry(started: () => boolean, dependenciesRequired = false): HealthRegistry {
  const checks = new Map<string, { check: HealthCheck; required: boolean }>();
  return {
    add(name, check, options = {}) {
      if (checks.has(name)) throw new AppDefinitionError(`two readiness checks are named "${name}"`);
      checks.set(name, { check, required: dependenciesRequired || (options.kind ?? 'own') === 'own' });
    },
    async readiness() {
      const results: Record<string, ReadinessCheck> = {};
      await Promise.all(
        [...checks].map(async ([name, { check, required }]) => {
          let result: HealthCheckResult;
          try {
            result = await check();
          } catch (error) {
            result = { ok: false, details: { error: (error as Error).message } };
          }
          results[name] = { ...result, required };
        }),
      );
      const ok = started() && Object.values(results).every((result) => result.ok || !result.required);
      return { ok, checks: results };
    },
  };
}
