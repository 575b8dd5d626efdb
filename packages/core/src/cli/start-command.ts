/**
 * `blueprint start`: builds one process of the topology, starts it, and stops it gracefully on
 * SIGTERM / SIGINT.
 */
import { type BlueprintApp, createApp } from '../app/create-app.js';
import { installSpanRecorder, type SpanRecorder } from '../observability/span-recorder.js';
import { loadApp, readRawTopology, validateRawTopology } from './load-app.js';
import { formatError } from './report-error.js';
import { ExitCode } from './usage.js';

/** Options of {@link startCommand}. */
export interface StartCommandOptions {
  /** Path of the topology file. */
  readonly topology: string;
  /** Process to run; may be left out when the topology has one process. */
  readonly process?: string | undefined;
  /** Which replica of the process this is, from 0. Default: 0. */
  readonly replica?: number | undefined;
  /** Print stack traces of coded errors too. Default: false. */
  readonly verbose?: boolean;
  /** True when a TypeScript loader is already registered. Default: false. */
  readonly typescriptRegistered?: boolean;
}

/**
 * Time a stop may take beyond the topology's `shutdownTimeout` before the CLI gives up and exits 1.
 */
export const STOP_MARGIN_MS = 3_000;

/** Env variable set by `blueprint dev` on its children: stop when the dev process goes away. */
export const DEV_CHILD_ENV = 'BLUEPRINT_DEV_CHILD';

/**
 * Env variable set by `blueprint dev` on its children when it serves the dashboard: each child keeps its
 * recent spans in memory (when no OpenTelemetry SDK is registered) for the dashboard to read.
 */
export const DASHBOARD_ENV = 'BLUEPRINT_DASHBOARD';

/** Message a `blueprint start` child sends to `blueprint dev` over IPC once ready. */
export interface ReadyMessage {
  readonly type: 'blueprint:ready';
  readonly process: string;
  readonly rpcUrl: string | undefined;
  /** Its admin listener, which the dashboard reads. */
  readonly adminUrl?: string | undefined;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function rpcLabel(app: BlueprintApp): string {
  if (app.topology.rpc.type === 'local') return 'local';
  return app.rpcUrl ?? 'outbound-only';
}

/**
 * Runs `blueprint start`. Resolves with the exit code once the process stopped (or failed to start).
 */
export async function startCommand(options: StartCommandOptions): Promise<number> {
  const verbose = options.verbose ?? false;
  let app: BlueprintApp;
  try {
    const topology = readRawTopology(options.topology);
    const loaded = await loadApp(topology, { typescriptRegistered: options.typescriptRegistered ?? false });
    const validated = validateRawTopology(topology, loaded.app);
    const spans = recordSpans(
      validated.admin?.dashboard === true,
      options.process ?? Object.keys(validated.processes)[0] ?? 'app',
    );
    app = await createApp(loaded.app, {
      topology: validated,
      ...(spans === undefined ? {} : { spans }),
      ...(options.process === undefined ? {} : { process: options.process }),
      ...(options.replica === undefined ? {} : { replica: options.replica }),
    });
  } catch (error) {
    err(`blueprint: ${formatError(error, verbose)}`);
    return ExitCode.Failure;
  }
  return run(app, verbose);
}

/**
 * Installs the in-memory tracer for the dashboard, under `blueprint dev` or with `admin.dashboard`, when no
 * OpenTelemetry SDK was registered (an app's own SDK keeps its spans).
 */
function recordSpans(dashboardEnabled: boolean, processName: string): SpanRecorder | undefined {
  if (!dashboardEnabled && process.env[DASHBOARD_ENV] !== '1') return undefined;
  return installSpanRecorder(processName);
}

function run(app: BlueprintApp, verbose: boolean): Promise<number> {
  const name = app.process;
  return new Promise<number>((resolve) => {
    // Signal listeners do not keep Node alive; an app with no server of its own would exit at once.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    let forceTimer: NodeJS.Timeout | undefined;
    let stopRequested = false;
    let running = false;
    let done = false;

    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      if (forceTimer) clearTimeout(forceTimer);
      process.off('disconnect', onParentGone);
      // The signal listeners stay: a signal between here and the launcher's exit must not kill us.
      resolve(code);
    };

    const stop = async () => {
      const stopBegan = performance.now();
      try {
        await app.stop();
        out(`blueprint: stopped process=${name} in ${Math.round(performance.now() - stopBegan)}ms`);
        finish(ExitCode.Ok);
      } catch (error) {
        err(`blueprint: stopping process "${name}" failed: ${formatError(error, verbose)}`);
        finish(ExitCode.Failure);
      }
    };

    const requestStop = (reason: string) => {
      stopRequested = true;
      out(`blueprint: stopping process=${name} reason=${reason}`);
      const limit = app.topology.drainDelay + app.topology.shutdownTimeout + STOP_MARGIN_MS;
      forceTimer = setTimeout(() => {
        err(
          `blueprint: process "${name}" did not stop within ${limit}ms (drainDelay ${app.topology.drainDelay}ms + shutdownTimeout ${app.topology.shutdownTimeout}ms + ${STOP_MARGIN_MS}ms); exiting with code 1. Find the onStop hook or connection that hangs, or raise shutdownTimeout in the topology`,
        );
        finish(ExitCode.Failure);
      }, limit);
      if (running) void stop();
    };

    function onSignal(signal: NodeJS.Signals) {
      if (done) return;
      if (stopRequested) {
        err(`blueprint: ${signal} again; exiting now without waiting for process "${name}" to stop`);
        finish(ExitCode.Failure);
        return;
      }
      requestStop(signal);
    }

    function onParentGone() {
      if (!stopRequested) requestStop('dev-exited');
    }

    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (process.env[DEV_CHILD_ENV] === '1' && process.channel) {
      process.on('disconnect', onParentGone);
      // Once `dev` is gone its pipes are closed: writing a log line must not crash the graceful stop.
      process.stdout.on('error', () => undefined);
      process.stderr.on('error', () => undefined);
    }

    app.start().then(
      () => {
        running = true;
        const services = app.topology.processes[name]?.services ?? [];
        out(
          `blueprint: ready process=${name} app=${app.name} services=${services.join(',') || '-'} rpc=${rpcLabel(app)} pid=${process.pid} startup=${Math.round(process.uptime() * 1000)}ms`,
        );
        if (process.send && process.connected) {
          const message: ReadyMessage = {
            type: 'blueprint:ready',
            process: name,
            rpcUrl: app.rpcUrl,
            adminUrl: app.adminUrl,
          };
          process.send(message);
        }
        if (stopRequested) void stop();
      },
      (error: unknown) => {
        err(`blueprint: process "${name}" failed to start: ${formatError(error, verbose)}`);
        finish(ExitCode.Failure);
      },
    );
  });
}
