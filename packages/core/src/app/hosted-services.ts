/**
 * The services this process hosts: each implementation created once, explicitly, and handed to both
 * the local clients and the RPC server's dispatcher. An implementation that injects another hosted
 * service's contract gets that service created first (the container resolves the dependency).
 */
import type { DependencyContainer } from 'tsyringe';
import type { AppDefinition } from '../app.js';
import type { AnyContract } from '../contract.js';
import type { HostedService } from '../plugin/define-plugin.js';
import type { Constructor, ServiceRegistration } from '../service.js';
import type { Instances } from './instances.js';
import type { Placement } from './placement.js';

/** The hosted services of a process. */
export class HostedServices {
  private readonly instances = new Map<string, object>();
  private readonly registrations: readonly ServiceRegistration[];

  constructor(
    app: AppDefinition,
    placement: Placement,
    private readonly container: DependencyContainer,
    private readonly factory: Instances,
  ) {
    this.registrations = app.services.filter((s) => placement.hosts(s.contract.name));
  }

  /** The contracts hosted here, in app order. */
  get contracts(): AnyContract[] {
    return this.registrations.map((s) => s.contract);
  }

  /** The implementation of a hosted contract, created on first use. */
  instanceOf(contract: AnyContract): object {
    let instance = this.instances.get(contract.name);
    if (instance === undefined) {
      const registration = this.registrations.find((s) => s.contract.name === contract.name);
      if (registration === undefined) throw new TypeError(`service "${contract.name}" is not hosted here`);
      instance = this.factory.create(registration.implementation as Constructor, this.container, contract);
      this.instances.set(contract.name, instance);
    }
    return instance;
  }

  /** Creates every hosted implementation not created yet, in app order. */
  createAll(): void {
    for (const registration of this.registrations) this.instanceOf(registration.contract);
  }

  /** The hosted services created so far, as plugins see them. */
  list(): HostedService[] {
    return this.registrations
      .filter((s) => this.instances.has(s.contract.name))
      .map((s) => ({ contract: s.contract, instance: this.instances.get(s.contract.name)! }));
  }
}
