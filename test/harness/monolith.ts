/**
 * An app in one process for a test: every service of the app placed in one process, `main`, the
 * topology sections the test is about (`cache`, `events`, `auth`, `rpc`, ...) added, started, and stopped
 * when the test that started it ends, passed or failed.
 */
import {
  type AppDefinitionInput,
  type BlueprintApp,
  type CreateAppOptions,
  createApp,
  defineApp,
} from '@blueprint/core';
import { onTestFinished } from 'vitest';

/** Options of {@link startMonolith}: those of `createApp`, with topology sections instead of a topology. */
export interface MonolithOptions extends Omit<CreateAppOptions, 'topology' | 'process'> {
  /**
   * Sections added to the topology (and `app` to replace its default, `'x'`), e.g.
   * `{ cache: { type: 'memory' } }`. Default: none, so the app runs with the plugins' defaults.
   */
  readonly topology?: Readonly<Record<string, unknown>>;
}

/**
 * Builds `app` as one process, `main`, that hosts all its services, starts it, and stops it when the
 * calling test finishes (stopping it earlier is fine: `stop()` may be called twice). Call it inside a test.
 *
 * @example
 * const shop = await startMonolith(
 *   { name: 'shop', services: [service(Products, ProductsService)], plugins: [cachePlugin()] },
 *   { topology: { cache: { type: 'memory' } } },
 * );
 */
export async function startMonolith(
  app: AppDefinitionInput,
  options: MonolithOptions = {},
): Promise<BlueprintApp> {
  const { topology, ...createOptions } = options;
  const services = app.services.map((registration) => registration.contract.name);
  const started = await createApp(defineApp(app), {
    ...createOptions,
    topology: { app: 'x', processes: { main: { services } }, ...topology },
  });
  onTestFinished(() => started.stop());
  await started.start();
  return started;
}
