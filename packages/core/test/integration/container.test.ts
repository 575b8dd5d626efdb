import { describe, expect, it } from 'vitest';
import { runInjectedApp } from './fixtures/injected-app.js';
import { spawnTsx } from './fixtures/spawn-tsx.js';

const greeting = 'hello ann at 2024-05-01T10:00:00.000Z in process main';

describe('explicit @inject works with and without decorator metadata', () => {
  it('runs under tsx, which emits no decorator metadata, and exits once the apps stopped', async () => {
    const child = spawnTsx(new URL('./fixtures/injected-app-main.ts', import.meta.url));
    const report = JSON.parse(await child.firstLine);
    expect(await child.exited, child.stderr()).toBe(0);
    expect(report).toEqual({
      greeting,
      emitsMetadata: false,
      withoutInject: expect.stringContaining(
        'APP_INVALID: cannot create MetadataOnlyFormatter: constructor parameter(s) #0 have no @inject(TOKEN)',
      ),
    });
  });

  it('runs the same classes under vitest, whose SWC transform emits metadata', async () => {
    expect(await runInjectedApp()).toEqual({ greeting, emitsMetadata: true, withoutInject: 'ok' });
  });
});
