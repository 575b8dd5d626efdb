/**
 * Apps a test file starts in its own process: built with their logs dropped, started, and stopped after
 * each test.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { afterEach } from 'vitest';

/** A log destination that drops every line. */
export const quiet = { write: () => undefined };

/** Options of {@link appStarter}. */
export interface AppStarterOptions {
  /**
   * Let an app fail to stop after a test without failing it (a test that stops a replica itself while
   * calls drain). Default `false`.
   */
  readonly ignoreStopErrors?: boolean;
}

/** Builds an app with `createApp` (logs dropped unless `options` names a destination) and starts it. */
export type StartApp = (
  app: Parameters<typeof createApp>[0],
  options: Parameters<typeof createApp>[1],
) => Promise<BlueprintApp>;

/**
 * Registers an `afterEach` that stops every app started through the returned function; an app is
 * stopped even when its start failed.
 */
export function appStarter(options: AppStarterOptions = {}): StartApp {
  const running: BlueprintApp[] = [];
  afterEach(async () => {
    const stop = (app: BlueprintApp) =>
      options.ignoreStopErrors ? app.stop().catch(() => undefined) : app.stop();
    await Promise.all(running.splice(0).map(stop));
  });
  return async (app, appOptions) => {
    const built = await createApp(app, { logDestination: quiet, ...appOptions });
    running.push(built);
    await built.start();
    return built;
  };
}
