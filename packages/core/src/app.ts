/**
 * The app definition: services (contract + implementation), providers and plugins. It is the same
 * object in every topology and never reads the topology.
 */
import { AppDefinitionError } from './errors.js';
import type { Plugin, PluginAppView } from './plugin/define-plugin.js';
import type { Provider, ServiceRegistration } from './service.js';

/** An app definition. Build it with {@link defineApp}. */
export interface AppDefinition extends PluginAppView {
  /** App name: used for key prefixes, stream names, consumer group prefixes and logs. */
  readonly name: string;
  /** The services. */
  readonly services: readonly ServiceRegistration[];
  /** Other injectables (repositories, clients). Created once per process. */
  readonly providers: readonly Provider[];
  /** Plugins, in order: within a chain stage the first plugin's links wrap outermost; its hooks start first. */
  readonly plugins: readonly Plugin[];
}

/** Input of {@link defineApp}. */
export interface AppDefinitionInput {
  name: string;
  services: readonly ServiceRegistration[];
  providers?: readonly Provider[];
  plugins?: readonly Plugin[];
}

const APP_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Declares an app. Checks names are unique; placement is the topology's business.
 *
 * @example
 * export const app = defineApp({ name: 'shop', services: [service(Products, ProductsService)], plugins: [eventsPlugin()] });
 */
export function defineApp(input: AppDefinitionInput): AppDefinition {
  if (!APP_NAME.test(input.name)) {
    throw new AppDefinitionError(
      `invalid app name "${input.name}": use lower-case letters, digits and dashes`,
    );
  }
  const seen = new Set<string>();
  for (const registration of input.services) {
    if (seen.has(registration.contract.name)) {
      throw new AppDefinitionError(
        `service "${registration.contract.name}" is listed twice in app "${input.name}"`,
      );
    }
    seen.add(registration.contract.name);
  }
  const pluginNames = new Set<string>();
  const sectionKeys = new Set<string>();
  for (const plugin of input.plugins ?? []) {
    if (pluginNames.has(plugin.name)) throw new AppDefinitionError(`plugin "${plugin.name}" is listed twice`);
    pluginNames.add(plugin.name);
    if (plugin.section) {
      if (sectionKeys.has(plugin.section.key)) {
        throw new AppDefinitionError(`two plugins claim the topology section "${plugin.section.key}"`);
      }
      sectionKeys.add(plugin.section.key);
    }
  }
  return Object.freeze({
    name: input.name,
    services: Object.freeze([...input.services]),
    providers: Object.freeze([...(input.providers ?? [])]),
    plugins: Object.freeze([...(input.plugins ?? [])]),
  });
}

/** True when `value` looks like an app made by {@link defineApp}. */
export function isAppDefinition(value: unknown): value is AppDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AppDefinition).name === 'string' &&
    Array.isArray((value as AppDefinition).services) &&
    Array.isArray((value as AppDefinition).plugins)
  );
}
