import { createApp, defineApp, defineService, injectable, service } from '@blueprint/core';
import { z } from 'zod';

const Greeter = defineService('greeter', {
  hello: { input: z.object({ name: z.string() }), output: z.object({ text: z.string(), at: z.date() }) },
});
@injectable()
class GreeterService {
  async hello({ name }: { name: string }) {
    return { text: `hello ${name}`, at: new Date() };
  }
}
const app = defineApp({ name: 'hello', services: [service(Greeter, GreeterService)] });
const running = await createApp(app, {
  topology: { app: './app.js', processes: { main: { services: ['greeter'] } } },
});
await running.start();
console.log(await running.client(Greeter).hello({ name: 'ann' })); // { text: 'hello ann', at: Date }
await running.stop();
