/**
 * What a process container holds: core's tokens, the app's providers, and for every contract its client
 * (the local chain over the hosted instance, or the remote chain over the transport).
 */
import {
  type DependencyContainer,
  container as globalContainer,
  type InjectionToken,
  instanceCachingFactory,
} from 'tsyringe';
import type { AppDefinition } from '../app.js';
import { localClient, remoteClient } from '../chain/contract-chains.js';
import type { Link } from '../chain/link.js';
import { jsonCodec } from '../codec.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { Constructor, Provider } from '../service.js';
import type { ProcessTopology, Topology } from '../topology.js';
import type { HealthRegistry } from './health.js';
import type { HostedServices } from './hosted-services.js';
import type { Instances } from './instances.js';
import { isCallable, type Placement } from './placement.js';
import type { RemoteProcesses } from './remote-processes.js';
import { CoreTokens } from './tokens.js';

/** What core registers about the process. */
export interface CoreValues {
  readonly app: AppDefinition;
  readonly topology: Topology;
  readonly process: ProcessTopology & { readonly name: string };
  readonly telemetry: Telemetry;
  readonly health: HealthRegistry;
}

/** A fresh process container (a child of a fresh root: nothing is global) with core's tokens. */
export function createProcessContainer(values: CoreValues): DependencyContainer {
  const container = globalContainer.createChildContainer().createChildContainer();
  container.register(CoreTokens.App, { useValue: values.app });
  container.register(CoreTokens.Topology, { useValue: values.topology });
  container.register(CoreTokens.Process, { useValue: values.process });
  container.register(CoreTokens.Codec, { useValue: jsonCodec });
  container.register(CoreTokens.Settings, { useValue: values.topology.settings });
  container.register(CoreTokens.Telemetry, { useValue: values.telemetry });
  container.register(CoreTokens.Health, { useValue: values.health });
  return container;
}

/** Registers providers; class providers are created once, through `instances`. */
export function registerProviders(
  container: DependencyContainer,
  providers: readonly Provider[],
  instances: Instances,
): void {
  for (const provider of providers) {
    if ('useValue' in provider) container.register(provider.token, { useValue: provider.useValue });
    else if ('useClass' in provider) {
      const cls = provider.useClass as Constructor;
      container.register(provider.token, {
        useFactory: instanceCachingFactory((c) => instances.create(cls, c)),
      });
    } else {
      const factory = provider.useFactory;
      container.register(provider.token, {
        useFactory: instanceCachingFactory((c) => factory(<R>(token: InjectionToken<R>) => c.resolve(token))),
      });
    }
  }
}

/** What the contract clients are built from. */
export interface ClientSources {
  readonly app: AppDefinition;
  readonly placement: Placement;
  readonly links: () => readonly Link[];
  readonly hosted: HostedServices;
  readonly remote: RemoteProcesses;
  readonly health: HealthRegistry;
  /** True when the transport crosses processes (remote clients get a readiness check). */
  readonly crossesProcesses: boolean;
}

/**
 * Registers the client of every contract under its token, built on first resolve: over the hosted
 * instance when this process hosts the service, else over the RPC client of the owning process (with a
 * readiness check `rpc:<service>`).
 */
export function registerContractClients(container: DependencyContainer, sources: ClientSources): void {
  const { placement, hosted, remote } = sources;
  const base = { process: placement.process };
  for (const { contract } of sources.app.services) {
    if (placement.hosts(contract.name)) {
      container.register(contract.token, {
        useFactory: instanceCachingFactory(
          () => localClient(sources.links(), base, contract, hosted.instanceOf(contract)) as never,
        ),
      });
      continue;
    }
    const owner = placement.ownerOf(contract.name);
    container.register(contract.token, {
      useFactory: instanceCachingFactory(
        () => remoteClient(sources.links(), base, contract, remote.clientOf(owner)) as never,
      ),
    });
    if (isCallable(contract) && sources.crossesProcesses) {
      sources.health.add(`rpc:${contract.name}`, () => remote.clientOf(owner).ping(), { kind: 'dependency' });
    }
  }
}
