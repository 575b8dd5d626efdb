import { describe, expect, it } from 'vitest';
import { DECORATOR_SETTINGS, importCompiled } from '../../../../test/harness/index.js';

const source = `
import { createApp, defineApp, defineService, injectable, service } from '@blueprint/core';
import { defineEvent, EventsTokens, eventsPlugin, OnEvent } from '@blueprint/events';
import { z } from 'zod';

const UserRegistered = defineEvent('user.registered', z.object({ id: z.string() }));
const Mailer = defineService('mailer', {});

export const sent = [];

@injectable()
class MailerService {
  @OnEvent(UserRegistered)
  async welcome(user, meta) {
    sent.push(user.id + ':' + meta.attempt);
  }
}

export async function start() {
  const app = defineApp({ name: 'decorated', services: [service(Mailer, MailerService)], plugins: [eventsPlugin()] });
  const running = await createApp(app, {
    topology: { app: 'x', events: { type: 'memory' }, processes: { main: { services: ['mailer'] } } },
  });
  await running.start();
  return { running, bus: running.resolve(EventsTokens.Bus), UserRegistered };
}
`;

const onAField = `
import { defineEvent, OnEvent } from '@blueprint/events';
import { z } from 'zod';
const Ping = defineEvent('ping', z.object({}));
export class Broken {
  @OnEvent(Ping)
  handler = () => {};
}
`;

describe.each(DECORATOR_SETTINGS)('@OnEvent with %s decorators', (setting) => {
  it('subscribes the method: a published event reaches it', async () => {
    const mod = await importCompiled('events-on-event', source, setting);
    const { running, bus, UserRegistered } = await (
      mod.start as () => Promise<{
        running: { stop(): Promise<void> };
        bus: { publish(event: unknown, payload: unknown): Promise<string> };
        UserRegistered: unknown;
      }>
    )();
    try {
      await bus.publish(UserRegistered, { id: 'u1' });
      const sent = mod.sent as string[];
      const { waitFor } = await import('@blueprint/core/testing');
      await waitFor(() => sent.length === 1, { message: 'the handler ran' });
      expect(sent).toEqual(['u1:1']);
    } finally {
      await running.stop();
    }
  });

  it('refuses anything but a method when the class is defined', async () => {
    await expect(importCompiled('events-on-field', onAField, setting)).rejects.toMatchObject({
      code: 'APP_INVALID',
      message: expect.stringMatching(/^@OnEvent\(ping\) goes on a method/),
    });
  });
});
