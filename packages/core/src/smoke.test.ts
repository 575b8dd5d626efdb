import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ClientOf,
  createApp,
  defineApp,
  defineService,
  type ImplementationOf,
  inject,
  injectable,
  NotFoundError,
  service,
} from './index.js';

const Greeter = defineService('greeter', {
  hello: {
    input: z.object({ name: z.string() }),
    output: z.object({ text: z.string(), at: z.date() }),
    idempotent: true,
  },
});
const Front = defineService('front', {
  greet: { input: z.object({ name: z.string() }), output: z.string() },
});
@injectable()
class GreeterService implements ImplementationOf<typeof Greeter> {
  async hello({ name }: { name: string }) {
    if (name === 'nobody') throw new NotFoundError('no such person', { details: { name } });
    return { text: `hello ${name}`, at: new Date(0) };
  }
}
@injectable()
class FrontService implements ImplementationOf<typeof Front> {
  constructor(@inject(Greeter.token) private readonly greeter: ClientOf<typeof Greeter>) {}
  async greet({ name }: { name: string }) {
    const r = await this.greeter.hello({ name });
    return `${r.text} ${r.at.toISOString()}`;
  }
}
const app = defineApp({
  name: 'smoke',
  services: [service(Greeter, GreeterService), service(Front, FrontService)],
});

describe('smoke', () => {
  it('runs local', async () => {
    const a = await createApp(app, {
      topology: {
        app: 'x',
        rpc: { type: 'local', serialize: true },
        processes: { main: { services: ['greeter', 'front'] } },
      },
    });
    await a.start();
    expect(await a.client(Front).greet({ name: 'ann' })).toBe('hello ann 1970-01-01T00:00:00.000Z');
    await expect(a.client(Greeter).hello({ name: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    await a.stop();
  });
  it('runs http', async () => {
    const topology = {
      app: 'x',
      rpc: { type: 'http' },
      processes: { g: { services: ['greeter'], address: 'http://127.0.0.1:0' }, f: { services: ['front'] } },
    };
    const g = await createApp(app, { topology, process: 'g' });
    await g.start();
    const f = await createApp(app, { topology, process: 'f', addresses: { g: g.rpcUrl! } });
    await f.start();
    expect(await f.client(Front).greet({ name: 'bob' })).toBe('hello bob 1970-01-01T00:00:00.000Z');
    const err = await f
      .client(Greeter)
      .hello({ name: 'nobody' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.details).toEqual({ name: 'nobody' });
    expect(await f.readiness()).toMatchObject({ ok: true });
    await f.stop();
    await g.stop();
  });
});
