/**
 * `blueprint dev`: runs every process of a topology as a child (`blueprint start --process NAME`)
 * with prefixed logs, and stops them all together. The children are the units of the deployment plan,
 * the same plan `blueprint export` renders for containers. It serves the dashboard on `127.0.0.1` (its
 * own port, printed when every process is ready) unless `--no-dashboard`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AppDefinition } from '../app.js';
import type { DashboardTarget } from '../dashboard/admin-client.js';
import { createCollector } from '../dashboard/collector.js';
import { type DashboardServer, startDashboardServer } from '../dashboard/server.js';
import { BLUEPRINT_COMMAND, planDeployment, type UnitPlan } from '../deploy/plan.js';
import type { Topology } from '../topology.js';
import { loadApp, readRawTopology, validateRawTopology } from './load-app.js';
import { createLinePrefixer, formatPrefix, shouldColor } from './log-prefixer.js';
import { prettyLogLine } from './pretty-log.js';
import { formatError } from './report-error.js';
import { standInSecrets } from './stand-in-secrets.js';
import { DASHBOARD_ENV, DEV_CHILD_ENV, type ReadyMessage, STOP_MARGIN_MS } from './start-command.js';
import { ExitCode } from './usage.js';

/** Options of {@link devCommand}. */
export interface DevCommandOptions {
  /** Path of the topology file. */
  readonly topology: string;
  /** Pass `--verbose` to the children. Default: false. */
  readonly verbose?: boolean;
  /** True when a TypeScript loader is already registered. Default: false. */
  readonly typescriptRegistered?: boolean;
  /** Serve the dashboard (`--no-dashboard` turns it off). Default: true. */
  readonly dashboard?: boolean;
  /**
   * The dashboard's port on `127.0.0.1` (`--dashboard-port`); 0 picks a free one. Default:
   * {@link DEFAULT_DASHBOARD_PORT}, or a free port when that one is taken.
   */
  readonly dashboardPort?: number | undefined;
}

/** The dashboard's port when `--dashboard-port` is not given (a free one is picked when it is taken). */
export const DEFAULT_DASHBOARD_PORT = 9400;

const LAUNCHER = fileURLToPath(new URL('../../bin/blueprint.js', import.meta.url));

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  ready: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Runs `blueprint dev`. Resolves with 0 when a signal stopped every child cleanly, 1 when a child
 * failed (at start or later) or did not stop.
 */
export async function devCommand(options: DevCommandOptions): Promise<number> {
  const verbose = options.verbose ?? false;
  let file: string;
  let units: UnitPlan[];
  let shutdownTimeout: number;
  let env: Record<string, string | undefined>;
  let app: AppDefinition;
  let topology: Topology;
  let processOfUnit: Map<string, { process: string; replica: number }>;
  try {
    const raw = readRawTopology(options.topology);
    file = raw.file;
    env = { ...process.env, ...standInSecrets(raw.raw, process.env) };
    ({ app } = await loadApp(raw, { env, typescriptRegistered: options.typescriptRegistered ?? false }));
    topology = validateRawTopology(raw, app, env);
    const plan = planDeployment({ app, topology, raw: raw.raw, topologyFile: file });
    units = plan.processes.flatMap((process) => process.units);
    processOfUnit = new Map(
      plan.processes.flatMap((process) =>
        process.units.map((unit) => [unit.name, { process: process.name, replica: unit.replica ?? 0 }]),
      ),
    );
    shutdownTimeout = plan.drain.drainDelay + plan.drain.shutdownTimeout;
  } catch (error) {
    process.stderr.write(`[dev] ${formatError(error, verbose)}\n`);
    return ExitCode.Failure;
  }
  const targets = new Map<string, DashboardTarget>();
  let dashboard: DashboardServer | undefined;
  if (options.dashboard ?? true) {
    const collector = createCollector({
      app,
      topology,
      targets: () => [...targets.values()],
      token: topology.admin?.token,
    });
    try {
      dashboard = await startDashboard(collector, options.dashboardPort);
    } catch (error) {
      process.stderr.write(`[dev] cannot serve the dashboard: ${formatError(error, verbose)}\n`);
      return ExitCode.Failure;
    }
    env = { ...env, [DASHBOARD_ENV]: '1' };
  }
  const onReady = (unit: string, message: ReadyMessage) => {
    const where = processOfUnit.get(unit);
    if (where !== undefined && message.adminUrl !== undefined) {
      targets.set(unit, { ...where, adminUrl: message.adminUrl });
    }
  };
  try {
    return await supervise(file, units, shutdownTimeout, verbose, env, {
      onReady,
      dashboardUrl: dashboard?.url,
    });
  } finally {
    await dashboard?.close();
  }
}

/** Starts the dashboard on `port`, or on the default port (a free one when it is taken). */
async function startDashboard(
  collector: ReturnType<typeof createCollector>,
  port: number | undefined,
): Promise<DashboardServer> {
  if (port !== undefined) return startDashboardServer({ collector, port });
  try {
    return await startDashboardServer({ collector, port: DEFAULT_DASHBOARD_PORT });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startDashboardServer({ collector, port: 0 });
  }
}

interface SupervisionHooks {
  /** A unit reported ready. */
  readonly onReady: (unit: string, message: ReadyMessage) => void;
  /** Printed in the ready line. */
  readonly dashboardUrl: string | undefined;
}

/** The arguments of the launcher for a unit's command (`blueprint start ...`). */
function launcherArgs(unit: UnitPlan, verbose: boolean): string[] {
  const [program, ...args] = unit.command;
  if (program !== BLUEPRINT_COMMAND) throw new Error(`unit ${unit.name} does not run ${BLUEPRINT_COMMAND}`);
  return [LAUNCHER, ...args, ...(verbose ? ['--verbose'] : [])];
}

function supervise(
  file: string,
  units: readonly UnitPlan[],
  shutdownTimeout: number,
  verbose: boolean,
  env: Readonly<Record<string, string | undefined>>,
  hooks: SupervisionHooks,
): Promise<number> {
  const names = units.map((unit) => unit.name);
  const color = shouldColor(process.stdout, process.env);
  const width = Math.max(5, ...names.map((name) => name.length + 2));
  const devPrefix = formatPrefix('dev', { width, color: false });
  const say = (line: string) => process.stdout.write(`${devPrefix}${line}\n`);
  const complain = (line: string) => process.stderr.write(`${devPrefix}${line}\n`);

  return new Promise<number>((resolve) => {
    const children: Child[] = [];
    let failed = false;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (code: number) => {
      if (done) return;
      done = true;
      if (killTimer) clearTimeout(killTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };

    const running = () => children.filter((child) => child.exit === undefined);

    const stopAll = (reason: string) => {
      if (stopping) return;
      stopping = true;
      const alive = running();
      if (alive.length > 0) say(`stopping ${alive.map((c) => c.name).join(', ')} (${reason})`);
      for (const child of alive) child.process.kill('SIGTERM');
      const limit = shutdownTimeout + STOP_MARGIN_MS * 2;
      killTimer = setTimeout(() => {
        const stuck = running();
        complain(`${stuck.map((c) => c.name).join(', ')} did not stop within ${limit}ms; killing them`);
        for (const child of stuck) child.process.kill('SIGKILL');
        finish(ExitCode.Failure);
      }, limit);
      maybeFinish();
    };

    const maybeFinish = () => {
      if (!stopping || running().length > 0) return;
      const clean = children.every((child) => child.exit?.code === 0);
      say(clean && !failed ? 'stopped' : 'stopped with failures');
      finish(clean && !failed ? ExitCode.Ok : ExitCode.Failure);
    };

    function onSignal(signal: NodeJS.Signals) {
      if (stopping) {
        complain(
          `${signal} again; killing ${
            running()
              .map((c) => c.name)
              .join(', ') || 'nothing'
          }`,
        );
        for (const child of running()) child.process.kill('SIGKILL');
        finish(ExitCode.Failure);
        return;
      }
      stopAll(signal);
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    say(`starting ${names.join(', ')} from ${file}`);
    units.forEach((unit, index) => {
      const name = unit.name;
      // Own process group: a terminal's Ctrl-C reaches only `dev`, which forwards one SIGTERM.
      const proc = spawn(process.execPath, launcherArgs(unit, verbose), {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
        env: { ...env, [DEV_CHILD_ENV]: '1' },
      });
      const child: Child = { name, process: proc, ready: false, exit: undefined };
      children.push(child);
      const prefix = formatPrefix(name, { width, colorIndex: index, color });
      const pretty = (line: string) => prettyLogLine(line, color);
      const stdout = createLinePrefixer(prefix, (text) => process.stdout.write(text), pretty);
      const stderr = createLinePrefixer(prefix, (text) => process.stderr.write(text));
      proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
      proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
      proc.on('message', (message: Partial<ReadyMessage>) => {
        if (message?.type !== 'blueprint:ready') return;
        child.ready = true;
        hooks.onReady(name, message as ReadyMessage);
        if (children.length === names.length && children.every((c) => c.ready)) {
          const dashboard = hooks.dashboardUrl === undefined ? '' : `; dashboard ${hooks.dashboardUrl}`;
          say(`all ${names.length} processes ready${dashboard}`);
        }
      });
      proc.on('error', (error) => {
        complain(`${name}: ${formatError(error, verbose)}`);
        if (child.exit === undefined) child.exit = { code: null, signal: null };
        failed = true;
        stopAll(`${name} could not be spawned`);
      });
      proc.on('close', (code, signal) => {
        stdout.flush();
        stderr.flush();
        child.exit = { code, signal };
        if (!stopping) {
          failed = true;
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          complain(`${name} ${how}${child.ready ? '' : ' while starting'}; stopping the others`);
          stopAll(`${name} exited`);
        }
        maybeFinish();
      });
    });
  });
}
