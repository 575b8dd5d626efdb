import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as blueprint from '@blueprint/core';
// #region code
import {
  type ClientOf,
  defineApp,
  defineService,
  type ImplementationOf,
  injectable,
  injectService,
  service,
} from '@blueprint/core';
import { z } from 'zod';

// A contract: what callers see.
export const Greeter = defineService('greeter', {
  hello: { input: z.object({ name: z.string().min(1) }), output: z.object({ message: z.string() }) },
});

// An implementation of it.
@injectable()
export class GreeterService implements ImplementationOf<typeof Greeter> {
  async hello({ name }: { name: string }) {
    return { message: `Hello, ${name}!` };
  }
}

// Another service injects the contract's client: local or remote, as the topology decides.
export const Welcome = defineService('welcome', {
  greet: { input: z.object({ name: z.string() }), output: z.string() },
});

@injectable()
export class WelcomeService implements ImplementationOf<typeof Welcome> {
  constructor(@injectService(Greeter) private readonly greeter: ClientOf<typeof Greeter>) {}

  async greet({ name }: { name: string }) {
    return (await this.greeter.hello({ name })).message;
  }
}

export const app = defineApp({
  name: 'hello',
  services: [service(Greeter, GreeterService), service(Welcome, WelcomeService)],
});
// #endregion code

// The topology the README shows next to this code runs it as one process.
const topology = JSON.parse(readFileSync(new URL('./first-look.topology.json', import.meta.url), 'utf8'));
const monolith = await blueprint.createApp(app, { topology });
await monolith.start();
assert.equal(await monolith.client(Welcome).greet({ name: 'Ada' }), 'Hello, Ada!');
await monolith.stop();

// Split in two processes over HTTP, the same code answers the same.
const split = {
  app: 'src/app.ts',
  rpc: { type: 'http' },
  auth: { secret: 'a-secret-of-at-least-32-characters!!' },
  processes: {
    greeter: { services: ['greeter'], address: 'http://127.0.0.1:0' },
    web: { services: ['welcome'] },
  },
};
const greeter = await blueprint.createApp(app, { topology: split, process: 'greeter' });
await greeter.start();
const web = await blueprint.createApp(app, {
  topology: split,
  process: 'web',
  addresses: { greeter: greeter.rpcUrl ?? '' },
});
await web.start();
assert.equal(await web.client(Welcome).greet({ name: 'Ada' }), 'Hello, Ada!');
await web.stop();
await greeter.stop();
