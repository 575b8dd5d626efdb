import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const packageSource = (name: string, entry: string) =>
  fileURLToPath(new URL(`./packages/${name}/src/${entry}`, import.meta.url));

/** Workspace packages resolve to their TypeScript sources, so tests never need a build. */
const alias = ['core', 'resilience', 'cache', 'events'].flatMap((name) => [
  { find: `@blueprint/${name}/testing`, replacement: packageSource(name, 'testing/index.ts') },
  { find: new RegExp(`^@blueprint/${name}$`), replacement: packageSource(name, 'index.ts') },
]);

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
