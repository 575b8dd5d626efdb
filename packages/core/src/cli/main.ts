/**
 * The `blueprint` command line. `bin/blueprint.js` imports this module and exits with what
 * {@link runCli} resolves to.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseDuration } from '../units.js';
import { EXPORT_TARGETS, ExitCode, type ExportTarget, GRAPH_FORMATS, HELP_TEXT } from './usage.js';

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** True when the launcher already registered tsx (running from sources). Default: false. */
  readonly typescriptRegistered?: boolean;
}

const COMMANDS = new Set(['start', 'dev', 'graph', 'export']);

class UsageError extends Error {}

/** The option table `parseArgs` takes. */
type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** The options every command takes. */
const COMMON_OPTIONS = {
  topology: { type: 'string', short: 't' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionTable;

/** Parses a command's arguments strictly: its own `options` and {@link COMMON_OPTIONS}; positionals allowed. */
function parseCommandArgs<T extends OptionTable>(args: readonly string[], options: T) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { ...COMMON_OPTIONS, ...options },
  });
}

function parseCommand(command: 'start' | 'dev', args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(
    args,
    command === 'start'
      ? { process: { type: 'string', short: 'p' }, replica: { type: 'string', short: 'r' } }
      : { 'no-dashboard': { type: 'boolean' }, 'dashboard-port': { type: 'string' } },
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const parsed = values as {
    topology?: string;
    process?: string;
    replica?: string;
    verbose?: boolean;
    help?: boolean;
    'no-dashboard'?: boolean;
    'dashboard-port'?: string;
  };
  // In a container image the topology and the process come from the environment (exec form has no shell).
  const fromEnv = command === 'start' ? process.env : {};
  const topology = parsed.topology ?? nonEmpty(fromEnv.BLUEPRINT_TOPOLOGY);
  const processName = parsed.process ?? nonEmpty(fromEnv.BLUEPRINT_PROCESS);
  if (!parsed.help && typeof topology !== 'string') {
    throw new UsageError(`${command} needs --topology FILE (e.g. --topology topology.json)`);
  }
  return {
    ...parsed,
    ...(topology === undefined ? {} : { topology }),
    ...(processName === undefined ? {} : { process: processName }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function parseExport(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(args, {
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
    hpa: { type: 'boolean' },
  });
  const help = values.help ?? false;
  const [target, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (!help) {
    if (target === undefined) {
      throw new UsageError(
        `export needs a target: ${EXPORT_TARGETS.join(', ')} (e.g. blueprint export compose ...)`,
      );
    }
    if (!(EXPORT_TARGETS as readonly string[]).includes(target)) {
      throw new UsageError(`unknown export target "${target}"; use ${EXPORT_TARGETS.join(', ')}`);
    }
    if (typeof values.topology !== 'string') {
      throw new UsageError('export needs --topology FILE (e.g. --topology topology/split.json)');
    }
    if (typeof values.out !== 'string') throw new UsageError('export needs --out DIR (e.g. --out deploy)');
    if (values.hpa === true && target !== 'kubernetes')
      throw new UsageError('--hpa applies to the kubernetes target only');
  }
  return {
    target: target as ExportTarget,
    topology: values.topology!,
    out: values.out!,
    force: values.force ?? false,
    hpa: values.hpa ?? false,
    verbose: values.verbose ?? false,
    help,
  };
}

function dashboardPortOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `--dashboard-port must be a port from 0 to 65535 (0 picks a free one), got "${text}"`,
    );
  }
  return port;
}

function replicaOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,3}$/.test(text)) throw new UsageError(`--replica must be a whole number from 0, got "${text}"`);
  return Number(text);
}

function parseGraph(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(args, {
    format: { type: 'string', short: 'f' },
    metrics: { type: 'string', short: 'm', multiple: true },
    sample: { type: 'string' },
  });
  // `--metrics URL URL ...`: further URLs arrive as positionals.
  const urls = [...(values.metrics ?? [])];
  for (const extra of positionals) {
    if (urls.length === 0 || !/^https?:\/\//.test(extra))
      throw new UsageError(`unexpected argument "${extra}"`);
    urls.push(extra);
  }
  if (!values.help && typeof values.topology !== 'string') {
    throw new UsageError('graph needs --topology FILE (e.g. --topology topology.json)');
  }
  const format = values.format ?? 'text';
  if (!(GRAPH_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown --format "${format}"; use ${GRAPH_FORMATS.join(' or ')}`);
  }
  let sampleMs: number | undefined;
  if (values.sample !== undefined) {
    sampleMs = parseDuration(values.sample);
    if (sampleMs === undefined || sampleMs <= 0) {
      throw new UsageError(`invalid --sample "${values.sample}"; use a duration like 10s`);
    }
    if (urls.length === 0) throw new UsageError('--sample needs --metrics URL');
  }
  return {
    topology: values.topology,
    format: format as (typeof GRAPH_FORMATS)[number],
    metrics: urls,
    sampleMs,
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

/** The version of `@blueprint/core`. */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves with the exit code.
 * `start` and `dev` resolve once their processes stopped. Each command's module is imported when that
 * command runs, so `blueprint start` does not load the exporters, the graph or the dev dashboard.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(HELP_TEXT);
      return first === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(`${cliVersion()}\n`);
      return ExitCode.Ok;
    }
    if (!COMMANDS.has(first)) {
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option "${first}"`
          : `unknown command "${first}"; use start, dev, graph or export`,
      );
    }
    if (first === 'graph') {
      const graph = parseGraph(rest);
      if (graph.help) {
        process.stdout.write(HELP_TEXT);
        return ExitCode.Ok;
      }
      const { graphCommand } = await import('./graph-command.js');
      return await graphCommand({
        topology: graph.topology!,
        format: graph.format,
        metrics: graph.metrics,
        sampleMs: graph.sampleMs,
        verbose: graph.verbose,
        typescriptRegistered: options.typescriptRegistered ?? false,
      });
    }
    if (first === 'export') {
      const parsed = parseExport(rest);
      if (parsed.help) {
        process.stdout.write(HELP_TEXT);
        return ExitCode.Ok;
      }
      const { help: _help, ...exportOptions } = parsed;
      const { exportCommand } = await import('./export-command.js');
      return await exportCommand({
        ...exportOptions,
        typescriptRegistered: options.typescriptRegistered ?? false,
      });
    }
    const command = first as 'start' | 'dev';
    const values = parseCommand(command, rest);
    if (values.help) {
      process.stdout.write(HELP_TEXT);
      return ExitCode.Ok;
    }
    const topology = values.topology!;
    const verbose = values.verbose ?? false;
    if (command === 'dev') {
      if (values['no-dashboard'] === true && values['dashboard-port'] !== undefined) {
        throw new UsageError('--dashboard-port and --no-dashboard contradict each other; give one');
      }
      const { devCommand } = await import('./dev-command.js');
      return await devCommand({
        topology,
        verbose,
        typescriptRegistered: options.typescriptRegistered ?? false,
        dashboard: values['no-dashboard'] !== true,
        dashboardPort: dashboardPortOf(values['dashboard-port']),
      });
    }
    const replica = replicaOf(values.replica ?? process.env.BLUEPRINT_REPLICA);
    const { startCommand } = await import('./start-command.js');
    return await startCommand({
      topology,
      process: values.process,
      replica,
      verbose,
      typescriptRegistered: options.typescriptRegistered ?? false,
    });
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`blueprint: ${error.message}\nRun "blueprint --help" for usage.\n`);
    return ExitCode.Usage;
  }
}

function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
