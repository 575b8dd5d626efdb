import { describe, expect, it } from 'vitest';
import { installEnv } from './install.js';

describe('installEnv', () => {
  it("keeps the user's npm settings and drops what npm create says about the folder it ran in", () => {
    expect(
      installEnv({
        PATH: '/usr/bin',
        npm_config_registry: 'https://registry.example/',
        npm_config_prefer_offline: 'true',
        npm_config_cache: '/home/ada/.npm',
        npm_config_local_prefix: '/home/ada',
        npm_package_name: 'elsewhere',
        npm_lifecycle_event: 'npx',
        npm_command: 'exec',
      }),
    ).toEqual({
      PATH: '/usr/bin',
      npm_config_registry: 'https://registry.example/',
      npm_config_prefer_offline: 'true',
      npm_config_cache: '/home/ada/.npm',
    });
  });
});
