/**
 * The `blueprint` command line. `bin/blueprint.js` imports this module and exits with what
 * {@link runCli} resolves to.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../units.js';
import { devCommand } from './dev-command.js';
import { GRAPH_FORMATS, graphCommand } from './graph-command.js';
import { startCommand } from './start-command.js';
import { ExitCode, HELP_TEXT } from './usage.js';

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** True when the launcher already registered tsx (running from sources). Default: false. */
  readonly typescriptRegistered?: boolean;
}

const COMMANDS = new Set(['start', 'dev', 'graph']);

class UsageError extends Error {}

function parseCommand(command: 'start' | 'dev', args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      topology: { type: 'string', short: 't' },
      ...(command === 'start' ? { process: { type: 'string', short: 'p' } } : {}),
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.help && typeof values.topology !== 'string') {
    throw new UsageError(`${command} needs --topology FILE (e.g. --topology topology.json)`);
  }
  return values as { topology?: string; process?: string; verbose?: boolean; help?: boolean };
}

function parseGraph(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      topology: { type: 'string', short: 't' },
      format: { type: 'string', short: 'f' },
      metrics: { type: 'string', short: 'm', multiple: true },
      sample: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
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
 * `start` and `dev` resolve once their processes stopped.
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
          : `unknown command "${first}"; use start, dev or graph`,
      );
    }
    if (first === 'graph') {
      const graph = parseGraph(rest);
      if (graph.help) {
        process.stdout.write(HELP_TEXT);
        return ExitCode.Ok;
      }
      return await graphCommand({
        topology: graph.topology!,
        format: graph.format,
        metrics: graph.metrics,
        sampleMs: graph.sampleMs,
        verbose: graph.verbose,
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
    if (command === 'dev') return await devCommand({ topology, verbose });
    return await startCommand({
      topology,
      process: values.process,
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
