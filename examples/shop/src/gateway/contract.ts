/**
 * The gateway serves the public HTTP API. It offers no methods to other services, so its contract is
 * empty: it is a service only so the topology can place it.
 */
import { defineService } from '@blueprint/core';

/** The gateway service. */
export const Gateway = defineService('gateway', {}, { description: 'public HTTP API (Fastify)' });
