import { describe, expect, it } from 'vitest';
import { parseTopology } from '../topology.js';
import { messageSigner } from './message-signer.js';

const topology = (auth: unknown) =>
  parseTopology({ app: './x', auth, processes: { main: { services: [] } } }, { env: {} });
const secret = 'a-secret-that-is-long-enough-for-the-topology';

describe('messageSigner', () => {
  it('verifies what it signed, and nothing else', () => {
    const signer = messageSigner(topology({ secret }), 'events')!;
    const signature = signer.sign('{"id":1}');
    expect(signer.verify('{"id":1}', signature)).toBe(true);
    expect(signer.verify('{"id":2}', signature)).toBe(false);
    expect(signer.verify('{"id":1}', undefined)).toBe(false);
    expect(signer.verify('{"id":1}', 'x'.repeat(43))).toBe(false);
  });

  it('keeps purposes apart, accepts the previous secret, and is off without auth', () => {
    const events = messageSigner(topology({ secret }), 'events')!;
    const cache = messageSigner(topology({ secret }), 'cache')!;
    expect(cache.verify('v', events.sign('v'))).toBe(false);
    const rotated = messageSigner(topology({ secret: `${secret}-new`, previousSecret: secret }), 'events')!;
    expect(rotated.verify('v', events.sign('v'))).toBe(true);
    expect(messageSigner(topology('none'), 'events')).toBeUndefined();
    expect(messageSigner(topology(undefined), 'events')).toBeUndefined();
  });
});
