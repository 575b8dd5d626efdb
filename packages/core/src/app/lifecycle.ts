/**
 * The lifecycle of a process: the plugins' hooks and a state machine around the start and stop steps.
 *
 * ```
 * created → starting → started → draining (not ready, still serving, for the drain delay) → stopping → stopped
 *              └→ (a start step failed: what started is stopped) → failed
 * ```
 */
import { AppDefinitionError } from '../errors.js';
import type { LifecycleHook } from '../plugin/define-plugin.js';

/** The lifecycle state of a process. */
export type AppState = 'created' | 'starting' | 'started' | 'draining' | 'stopping' | 'stopped' | 'failed';

/** The hooks plugins register, by phase. */
export class LifecycleHooks {
  readonly start: LifecycleHook[] = [];
  readonly ready: LifecycleHook[] = [];
  readonly drain: LifecycleHook[] = [];
  readonly stop: LifecycleHook[] = [];
}

/** Runs hooks one after another; the first failure stops the run. */
export async function runHooks(hooks: readonly LifecycleHook[]): Promise<void> {
  for (const hook of hooks) await hook();
}

/** Runs every hook even when some fail; rethrows the first failure. */
export async function runAllHooks(hooks: readonly LifecycleHook[]): Promise<void> {
  let first: unknown;
  let failed = false;
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      if (!failed) first = error;
      failed = true;
    }
  }
  if (failed) throw first;
}

/** The work of starting and stopping, in order. */
export interface LifecycleSteps {
  /** Starts everything; may leave part of it started when it throws. */
  readonly start: () => Promise<void>;
  /** Runs once the process is `started`. */
  readonly ready: () => Promise<void>;
  /** Stops everything that may have started; each step is attempted, the first failure is thrown. */
  readonly stop: () => Promise<void>;
  /** Releases what a process that never started holds (client pools). */
  readonly abandon: () => Promise<void>;
  /**
   * How long a started process keeps serving, reported not ready, before it stops accepting: load
   * balancers and Kubernetes endpoints stop sending it work meanwhile. Default: 0.
   */
  readonly drainDelay?: number;
}

/** A process's lifecycle: `start()` once, `stop()` any number of times. */
export interface Lifecycle {
  readonly state: AppState;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Creates the lifecycle of process `name`. `start()` rejects (after stopping what started) if a step
 * fails: the process is then `failed` and cannot be started again. `stop()` is safe to call twice, or
 * while `start()` runs (it waits for the start to settle first).
 */
export function createLifecycle(name: string, steps: LifecycleSteps): Lifecycle {
  let state: AppState = 'created';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      if (state === 'started' && (steps.drainDelay ?? 0) > 0) {
        state = 'draining';
        await new Promise((resolve) => setTimeout(resolve, steps.drainDelay));
      }
      state = 'stopping';
      try {
        await steps.stop();
      } finally {
        state = 'stopped';
      }
    })();
    return stopping;
  };

  return {
    get state() {
      return state;
    },
    start() {
      if (state !== 'created') {
        return Promise.reject(
          new AppDefinitionError(`cannot start process "${name}" in state "${state}"; create a new app`),
        );
      }
      state = 'starting';
      starting = (async () => {
        try {
          await steps.start();
          state = 'started';
          await steps.ready();
        } catch (error) {
          await shutdown().catch(() => undefined);
          state = 'failed';
          throw error;
        }
      })();
      return starting;
    },
    stop() {
      if (state === 'started') return shutdown();
      if (state === 'created') {
        state = 'stopped';
        stopping = steps.abandon();
      }
      if (starting === undefined) return shutdown();
      return starting.catch(() => undefined).then(shutdown);
    },
  };
}
