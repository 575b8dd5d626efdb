/** Runs each plugin's `setup` with the context of this process. */
import type { DependencyContainer } from 'tsyringe';
import type { AppDefinition } from '../app.js';
import type { Link } from '../chain/link.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { PluginContext } from '../plugin/define-plugin.js';
import type { ProcessTopology, Topology } from '../topology.js';
import type { DashboardSections } from './dashboard-sections.js';
import type { HealthRegistry } from './health.js';
import type { HostedServices } from './hosted-services.js';
import type { LifecycleHooks } from './lifecycle.js';

/** What every plugin's context is built from. */
export interface PluginHost {
  readonly app: AppDefinition;
  readonly topology: Topology;
  readonly process: ProcessTopology & { readonly name: string };
  readonly container: DependencyContainer;
  readonly telemetry: Telemetry;
  readonly health: HealthRegistry;
  readonly dashboard: DashboardSections;
  readonly hooks: LifecycleHooks;
  readonly links: Link[];
  readonly hosted: HostedServices;
}

/** Sets up the app's plugins, in order. */
export async function setupPlugins(host: PluginHost): Promise<void> {
  for (const plugin of host.app.plugins) {
    const context: PluginContext = {
      app: host.app,
      topology: host.topology,
      process: host.process,
      config: plugin.section ? host.topology.sections[plugin.section.key] : undefined,
      container: host.container,
      telemetry: host.telemetry,
      addLink: (link) => host.links.push(link),
      addHealthCheck: (name, check, options) => host.health.add(name, check, options),
      addDashboardSection: (name, section) => host.dashboard.add(name, section),
      onStart: (hook) => host.hooks.start.push(hook),
      onReady: (hook) => host.hooks.ready.push(hook),
      onDrain: (hook) => host.hooks.drain.push(hook),
      onStop: (hook) => host.hooks.stop.push(hook),
      hostedServices: () => host.hosted.list(),
    };
    await plugin.setup(context);
  }
}
