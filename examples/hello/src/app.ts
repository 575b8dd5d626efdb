/**
 * The hello app: the same object in every topology. `topology.json` runs it as one process,
 * `topology.split.json` as two processes talking over HTTP.
 */
import { defineApp, service } from '@blueprint/core';
import { Greeter } from './greeter-contract.js';
import { GreeterService } from './greeter-service.js';
import { readWebConfig, WebConfigToken } from './web-config.js';
import { Web } from './web-contract.js';
import { WebService } from './web-service.js';

/** The app definition the CLI loads (`"app": "src/app.ts"` in the topologies). */
export const app = defineApp({
  name: 'hello',
  services: [service(Greeter, GreeterService), service(Web, WebService)],
  providers: [{ token: WebConfigToken, useFactory: () => readWebConfig(process.env) }],
});
