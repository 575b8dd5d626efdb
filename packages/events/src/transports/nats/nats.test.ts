import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILT_IN_TRANSPORTS, eventsSectionSchema, transportFromConfig } from '../../config.js';
import { defineEvent } from '../../define-event.js';
import { createEventBus } from '../../event-bus.js';
import { createNatsTransport, natsTransportSchema } from './index.js';

const Ping = defineEvent('unit.ping', z.object({ n: z.number() }));

describe('createNatsTransport', () => {
  it('connects nothing until the bus connects', () => {
    const transport = createNatsTransport({ url: 'nats://127.0.0.1:1' });
    expect(transport.type).toBe('nats');
    expect(transport.stats()).toMatchObject({ reconnects: 0, errors: 0 });
  });

  it.each([
    [{ url: 'redis://x:6379' }, 'invalid NATS url'],
    [{ url: '' }, 'invalid NATS url'],
    [{ stream: 'bp.shop' }, 'invalid NATS stream name'],
    [{ storage: 'disk' as 'file' }, 'invalid storage'],
    [{ retention: 'workqueue' as 'limits' }, 'invalid retention'],
    [{ ackWait: 'soon' }, 'ackWait: invalid duration "soon"'],
    [{ ackWait: 10 }, 'invalid ackWait'],
    [{ maxDeliver: 0 }, 'invalid maxDeliver'],
    [{ maxBytes: 'lots' }, 'invalid maxBytes'],
    [{ maxAge: '1m', duplicateWindow: '2m' }, 'must not be longer than maxAge'],
  ])('refuses %j with EVENTS_CONFIG_INVALID naming the value', (options, message) => {
    expect(() => createNatsTransport(options)).toThrow(
      expect.objectContaining({ code: 'EVENTS_CONFIG_INVALID', message: expect.stringContaining(message) }),
    );
  });

  it('accepts several servers, durations as strings, and unlimited maxDeliver', () => {
    expect(() =>
      createNatsTransport({
        url: 'nats://a:4222, tls://b:4222',
        ackWait: '2s',
        maxAge: '24h',
        maxBytes: '512mb',
        maxDeliver: -1,
        duplicateWindow: '30s',
      }),
    ).not.toThrow();
    expect(natsTransportSchema.parse({ type: 'nats' })).toMatchObject({
      url: ['nats://127.0.0.1:4222'],
      retention: 'interest',
      maxDeliver: -1,
      ackWait: 30_000,
    });
  });

  it('rejects publish before connect, and connect to a server that is not there, with EVENTS_BROKER_UNAVAILABLE', async () => {
    const transport = createNatsTransport({ url: 'nats://127.0.0.1:1', connectTimeout: 500 });
    const envelope = { id: 'e1', name: 'a.b', version: 1, occurredAt: new Date(), headers: {}, payload: {} };
    await expect(transport.publish(envelope)).rejects.toMatchObject({
      code: 'EVENTS_BROKER_UNAVAILABLE',
      details: { maybeStored: false },
    });
    await expect(transport.connect([])).rejects.toMatchObject({ code: 'EVENTS_BROKER_UNAVAILABLE' });
    expect((await transport.health()).ok).toBe(false);
    await transport.close();
    await expect(transport.publish(envelope)).rejects.toMatchObject({ code: 'EVENTS_BUS_CLOSED' });
  });

  it('lets a bus stop without ever connecting, then refuses to publish', async () => {
    const bus = createEventBus({ transport: createNatsTransport({ url: 'nats://127.0.0.1:1' }) });
    await bus.stop();
    await expect(bus.publish(Ping, { n: 1 })).rejects.toMatchObject({ code: 'EVENTS_BUS_CLOSED' });
  });

  it('is selected by the topology section `type: "nats"`, with strict keys', async () => {
    const schema = eventsSectionSchema();
    const config = schema.parse({
      type: 'nats',
      url: 'nats://127.0.0.1:4222',
      ackWait: '5s',
      maxBytes: '64mb',
      maxDeliver: -1,
      maxAttempts: 3,
    });
    const transport = await transportFromConfig(BUILT_IN_TRANSPORTS, config, {
      appName: 'my shop',
      onError: () => undefined,
    });
    expect(transport.type).toBe('nats');
    expect(() => schema.parse({ type: 'nats', url: 'nats://x:4222', ackwait: '5s' })).toThrow();
    expect(() => schema.parse({ type: 'nats', url: 'redis://x:6379' })).toThrow(/nats:\/\//);
    expect(() => schema.parse({ type: 'jetstream', url: 'nats://x:4222' })).toThrow(/nats/);
  });
});
