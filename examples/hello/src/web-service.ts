/**
 * The web service: starts the HTTP API when the process starts and closes it when it stops.
 */
import {
  type ClientOf,
  CoreTokens,
  type HealthRegistry,
  type ImplementationOf,
  inject,
  injectable,
  type OnStart,
  type OnStop,
  type ProcessTopology,
} from '@blueprint/core';
import type { FastifyInstance } from 'fastify';
import { Greeter } from './greeter-contract.js';
import { buildHttpApi } from './http-api.js';
import { type WebConfig, WebConfigToken } from './web-config.js';
import type { Web } from './web-contract.js';

/** Implements {@link Web}: no methods, an HTTP server. */
@injectable()
export class WebService implements ImplementationOf<typeof Web>, OnStart, OnStop {
  private server: FastifyInstance | undefined;

  constructor(
    @inject(Greeter.token) private readonly greeter: ClientOf<typeof Greeter>,
    @inject(CoreTokens.Health) private readonly health: HealthRegistry,
    @inject(CoreTokens.Process) private readonly host: ProcessTopology & { name: string },
    @inject(WebConfigToken) private readonly config: WebConfig,
  ) {}

  /** Listens on `PORT`. */
  async onStart() {
    const server = buildHttpApi({
      greeter: this.greeter,
      readiness: () => this.health.readiness(),
      processName: this.host.name,
    });
    await server.listen({ port: this.config.port, host: this.config.host });
    this.server = server;
    console.log(`web: listening on http://localhost:${this.config.port} (try /hello/you)`);
  }

  /** Stops accepting requests and waits for the ones in flight. */
  async onStop() {
    await this.server?.close();
  }
}
