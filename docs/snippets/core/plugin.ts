import assert from 'node:assert/strict';
import { createApp, defineApp, defineService, injectable, service } from '@blueprint/core';
import { definePlugin, type Plugin } from '@blueprint/core/plugin';
import { z } from 'zod';

const flushed: string[] = [];
const flushAuditLog = (): void => {
  flushed.push('flushed');
};

// #region plugin
export const audit = (): Plugin<{ level: 'info' | 'debug' }> =>
  definePlugin({
    name: 'audit',
    section: { key: 'audit', schema: z.strictObject({ level: z.enum(['info', 'debug']) }) },
    setup(ctx) {
      ctx.addLink({
        name: 'audit',
        stage: 'interceptor',
        wrap: (target) =>
          target.entry === 'serve' ? (next) => (input, context) => next(input, context) : undefined,
      });
      ctx.onStop(() => flushAuditLog());
    },
  });
// #endregion plugin

const Clock = defineService('clock', { now: { input: z.void(), output: z.number() } });
@injectable()
class ClockService {
  async now() {
    return 42;
  }
}
const app = defineApp({ name: 'audited', services: [service(Clock, ClockService)], plugins: [audit()] });
const running = await createApp(app, {
  topology: { app: 'src/app.ts', audit: { level: 'info' }, processes: { main: { services: ['clock'] } } },
});
await running.start();
assert.equal(await running.client(Clock).now(), 42);
await running.stop();
assert.deepEqual(flushed, ['flushed']);
