/**
 * The exports kept as golden files: every target for each topology of the shop (events on Redis
 * Streams or on Kafka) and of hello, under `examples/<example>/deploy/<variant>/` (Kubernetes in its
 * `kubernetes/` folder). `npm run deploy:golden` writes them with the CLI; the drift test renders them
 * again and compares.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareExport, renderExport } from '../../../src/cli/export-command.js';
import type { ExportTarget } from '../../../src/cli/usage.js';
import type { RenderedFiles } from '../../../src/deploy/render-dockerfile.js';

/** The root of the repository. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');

/** One golden export. */
export interface GoldenExport {
  /** The example folder, e.g. `examples/shop`. */
  readonly example: string;
  /** The topology file, relative to the example. */
  readonly topology: string;
  /** The folder under `deploy/`, e.g. `split`. */
  readonly variant: string;
  readonly target: ExportTarget;
}

const TOPOLOGIES = [
  { example: 'examples/shop', topology: 'topology/monolith.json', variant: 'monolith' },
  { example: 'examples/shop', topology: 'topology/split.json', variant: 'split' },
  { example: 'examples/shop', topology: 'topology/split-kafka.json', variant: 'split-kafka' },
  { example: 'examples/hello', topology: 'topology.json', variant: 'monolith' },
  { example: 'examples/hello', topology: 'topology.split.json', variant: 'split' },
] as const;

/** Every golden export. */
export const GOLDEN_EXPORTS: readonly GoldenExport[] = TOPOLOGIES.flatMap((entry) =>
  (['dockerfile', 'compose', 'kubernetes'] as const).map((target) => ({ ...entry, target })),
);

/** The folders holding golden files, absolute. */
export const GOLDEN_DIRS = [
  ...new Set(TOPOLOGIES.map((entry) => path.join(repositoryRoot, entry.example, 'deploy'))),
];

/** The absolute topology file of an export. */
export function topologyOf(entry: GoldenExport): string {
  return path.join(repositoryRoot, entry.example, entry.topology);
}

/** The absolute folder an export writes to. */
export function outOf(entry: GoldenExport): string {
  const base = path.join(repositoryRoot, entry.example, 'deploy', entry.variant);
  return entry.target === 'kubernetes' ? path.join(base, 'kubernetes') : base;
}

/** Renders an export in this process (the app loads through the test runner's TypeScript support). */
export async function renderGolden(
  entry: GoldenExport,
  options: { hpa?: boolean } = {},
): Promise<RenderedFiles> {
  const prepared = await prepareExport(topologyOf(entry), { typescriptRegistered: true });
  return renderExport(entry.target, prepared, { out: outOf(entry), hpa: options.hpa ?? false });
}
