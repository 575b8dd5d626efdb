import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

/**
 * Workspace packages resolve to their TypeScript sources, so tests never need a build: the root entry to
 * `src/index.ts`, a subpath `@blueprint/<name>/<sub>` to `src/<sub>/index.ts`.
 */
const alias = [
  { find: /^@blueprint\/(core|resilience|cache|events|http)$/, replacement: `${packages}$1/src/index.ts` },
  {
    find: /^@blueprint\/(core|resilience|cache|events|http)\/([a-z0-9/-]+)$/,
    replacement: `${packages}$1/src/$2/index.ts`,
  },
];

// SWC compiles decorators and emits their metadata the way tsc does.
const plugins = [
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
  }),
];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        plugins,
        resolve: { alias },
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], pool: 'forks' },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['./test/harness/global-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
