/**
 * The gateway service: starts the HTTP API on the configured port and closes it on stop.
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
  type Telemetry,
} from '@blueprint/core';
import type { FastifyInstance } from 'fastify';
import { Orders } from '../orders/contract.js';
import { Products } from '../products/contract.js';
import { httpPortOf, type Settings } from '../shared/settings.js';
import type { Gateway } from './contract.js';
import { buildHttpApi } from './http-api.js';
import { httpLimitsOf, rateLimitOf } from './http-limits.js';

/** Implements {@link Gateway}: the public HTTP API. */
@injectable()
export class GatewayService implements ImplementationOf<typeof Gateway>, OnStart, OnStop {
  private server: FastifyInstance | undefined;
  /** The URL the API listens on, once started. */
  url: string | undefined;

  constructor(
    @inject(Products.token) private readonly products: ClientOf<typeof Products>,
    @inject(Orders.token) private readonly orders: ClientOf<typeof Orders>,
    @inject(CoreTokens.Settings) private readonly settings: Settings,
    @inject(CoreTokens.Health) private readonly health: HealthRegistry,
    @inject(CoreTokens.Telemetry) private readonly telemetry: Telemetry,
  ) {}

  async onStart(): Promise<void> {
    const server = await buildHttpApi({
      products: this.products,
      orders: this.orders,
      readiness: () => this.health.readiness(),
      telemetry: this.telemetry,
      limits: httpLimitsOf(this.settings),
      rateLimit: rateLimitOf(this.settings),
    });
    const host = typeof this.settings.host === 'string' ? this.settings.host : '127.0.0.1';
    this.url = await server.listen({ port: httpPortOf(this.settings), host });
    this.server = server;
    this.health.add('http:gateway', () => ({ ok: this.server !== undefined }));
  }

  async onStop(): Promise<void> {
    await this.server?.close();
  }
}
