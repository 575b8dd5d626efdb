/**
 * What starting and stopping a process does, in order.
 *
 * ```
 * start: admin listener → plugin.onStart → providers and hosted services created → service.onStart
 *        → RPC server listens → (started) → plugin.onReady
 * stop:  RPC server drains → plugin.onDrain (reverse) → service.onStop (reverse) → plugin.onStop
 *        (reverse) → RPC clients close → admin listener closes
 * ```
 */
import type { DependencyContainer } from 'tsyringe';
import type { AppDefinition } from '../app.js';
import type { Topology } from '../topology.js';
import type { HostedServices } from './hosted-services.js';
import type { Instances } from './instances.js';
import { type LifecycleHooks, runAllHooks, runHooks } from './lifecycle.js';
import type { RemoteProcesses } from './remote-processes.js';
import type { Servers } from './servers.js';

/** The parts of a process the steps start and stop. */
export interface ProcessParts {
  readonly app: AppDefinition;
  readonly topology: Topology;
  readonly container: DependencyContainer;
  readonly hosted: HostedServices;
  readonly instances: Instances;
  readonly hooks: LifecycleHooks;
  readonly servers: Servers;
  readonly remote: RemoteProcesses;
  /** Instances whose `onStart` ran (or was due), so `stop()` calls `onStop` on exactly those, in reverse. */
  readonly started: object[];
}

type WithHook<K extends string> = { [P in K]: () => unknown };

function hasHook<K extends string>(instance: object, name: K): instance is WithHook<K> {
  return typeof (instance as Record<string, unknown>)[name] === 'function';
}

/** Starts a process's parts. */
export async function startSteps(parts: ProcessParts): Promise<void> {
  await parts.servers.startAdmin();
  await runHooks(parts.hooks.start);
  for (const provider of parts.app.providers) {
    if ('useClass' in provider) parts.container.resolve(provider.token);
  }
  parts.hosted.createAll();
  for (const instance of [...parts.instances.created]) {
    parts.started.push(instance);
    if (hasHook(instance, 'onStart')) await instance.onStart();
  }
  await parts.servers.startRpc();
}

/** Runs once the process is started. */
export function readySteps(parts: ProcessParts): Promise<void> {
  return runHooks(parts.hooks.ready);
}

/** Stops a process's parts; every step is attempted and the first failure is thrown. */
export async function stopSteps(parts: ProcessParts): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  };
  await attempt(() => parts.servers.closeRpc(parts.topology.shutdownTimeout));
  await attempt(() => runAllHooks([...parts.hooks.drain].reverse()));
  const stopHooks = [...parts.started]
    .reverse()
    .filter((instance) => hasHook(instance, 'onStop'))
    .map((instance) => async () => {
      await (instance as WithHook<'onStop'>).onStop();
    });
  await attempt(() => runAllHooks(stopHooks));
  await attempt(() => runAllHooks([...parts.hooks.stop].reverse()));
  await attempt(() => parts.remote.closeAll());
  await attempt(() => parts.servers.closeAdmin());
  if (errors.length > 0) throw errors[0];
}
