/**
 * `blueprint graph`: prints the services of a topology, the process hosting each, and the calls and
 * events between them, as text or Mermaid; with `--metrics` it adds measured calls.
 */
import { checkDeclaredDependencies } from '../app/app-checks.js';
import { checkTopologyAgainstApp } from '../app/placement.js';
import { annotateGraph, type Scrape, scrape } from './graph-metrics.js';
import { buildGraph } from './graph-model.js';
import { renderMermaid, renderText } from './graph-render.js';
import { loadApp, readRawTopology, validateRawTopology } from './load-app.js';
import { formatError } from './report-error.js';
import { standInSecrets } from './stand-in-secrets.js';
import { ExitCode, type GRAPH_FORMATS } from './usage.js';

/** Options of {@link graphCommand}. */
export interface GraphCommandOptions {
  /** Path of the topology file. */
  readonly topology: string;
  /** Output format. Default: `text`. */
  readonly format?: (typeof GRAPH_FORMATS)[number];
  /** `/metrics` URLs of running processes to scrape. Default: none. */
  readonly metrics?: readonly string[];
  /** Scrape twice, this many ms apart, and show rates over that window. Default: scrape once. */
  readonly sampleMs?: number | undefined;
  /** Print stack traces of coded errors too. Default: false. */
  readonly verbose?: boolean;
  /** True when a TypeScript loader is already registered. Default: false. */
  readonly typescriptRegistered?: boolean;
  /** Where the output goes. Default: standard output. */
  readonly write?: (text: string) => void;
}

/** Runs `blueprint graph`. Resolves with the exit code. */
export async function graphCommand(options: GraphCommandOptions): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  try {
    const raw = readRawTopology(options.topology);
    const { app } = await loadApp(raw, { typescriptRegistered: options.typescriptRegistered ?? false });
    // The graph shows structure only: an unset auth secret does not stop it.
    const topology = validateRawTopology(raw, app, {
      ...process.env,
      ...standInSecrets(raw.raw, process.env),
    });
    checkDeclaredDependencies(app);
    checkTopologyAgainstApp(topology, app);
    let graph = buildGraph(app, topology);
    const urls = options.metrics ?? [];
    if (urls.length > 0) {
      const first = await Promise.all(urls.map((url) => scrape(url)));
      let second: Scrape[] | undefined;
      if (options.sampleMs !== undefined && options.sampleMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, options.sampleMs));
        second = await Promise.all(urls.map((url) => scrape(url)));
      }
      const window = second === undefined ? undefined : (second[0]!.at - first[0]!.at) / 1000;
      graph = annotateGraph(graph, first, second, window);
    }
    write(options.format === 'mermaid' ? renderMermaid(graph) : renderText(graph));
    return ExitCode.Ok;
  } catch (error) {
    process.stderr.write(`blueprint: ${formatError(error, options.verbose ?? false)}\n`);
    return ExitCode.Failure;
  }
}
