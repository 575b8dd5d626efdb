/**
 * The greeter's implementation. It runs wherever the topology places the `greeter` service.
 */
import { CoreTokens, type ImplementationOf, inject, injectable, type ProcessTopology } from '@blueprint/core';
import type { Greeter } from './greeter-contract.js';

/** Implements {@link Greeter}. */
@injectable()
export class GreeterService implements ImplementationOf<typeof Greeter> {
  constructor(@inject(CoreTokens.Process) private readonly host: ProcessTopology & { name: string }) {}

  /** Greets `name`. */
  async hello({ name }: { name: string }) {
    return { message: `Hello, ${name}!`, servedBy: { process: this.host.name, pid: process.pid } };
  }
}
