/**
 * `blueprint export <target>`: writes what an orchestrator runs, from the deployment plan of a
 * topology: a Dockerfile, a Compose file or Kubernetes manifests. The topology is read with its
 * defaults (variables from the shell are not used), so the files are the same wherever they are made.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkDeclaredDependencies } from '../app/app-checks.js';
import { checkTopologyAgainstApp } from '../app/placement.js';
import { backingServices } from '../deploy/backing-services.js';
import { exportEnvironment, variablesWithoutDefault } from '../deploy/export-environment.js';
import { assertDeployable } from '../deploy/issues.js';
import { type DeploymentPlan, planDeployment } from '../deploy/plan.js';
import { renderCompose } from '../deploy/render-compose.js';
import { type RenderedFiles, renderDockerfile } from '../deploy/render-dockerfile.js';
import { renderKubernetes } from '../deploy/render-kubernetes.js';
import { topologyVariables } from '../deploy/variables.js';
import { TopologyError } from '../errors.js';
import { loadApp, readRawTopology, validateRawTopology } from './load-app.js';
import { formatError } from './report-error.js';
import { ExitCode, type ExportTarget } from './usage.js';

/** The Node.js major version of the image when the app's `package.json` has no `engines.node`. */
export const DEFAULT_NODE_VERSION = '22';

/** A topology read for export, with its plan and the app's folder. */
export interface PreparedExport {
  /** The deployment plan (topology paths relative to the app's folder). */
  readonly plan: DeploymentPlan;
  /** The app's folder: the nearest `package.json` above the app module, the image's build context. */
  readonly root: string;
  /** The image name, `<app>:<package version>`. */
  readonly image: string;
  /** The Node.js major version of the image. */
  readonly nodeVersion: string;
  /** True when the app's `package.json` has a `build` script. */
  readonly build: boolean;
}

/**
 * Reads a topology for export: loads its app, validates it with the defaults it gives, plans the
 * deployment, and refuses what containers cannot run (with the fix).
 */
export async function prepareExport(
  topologyFile: string,
  options: { readonly typescriptRegistered?: boolean } = {},
): Promise<PreparedExport> {
  const raw = readRawTopology(topologyFile);
  const variables = topologyVariables(raw.raw);
  const servers = backingServices(raw.raw);
  assertDeployable(raw.file, variablesWithoutDefault(variables, servers));
  const env = exportEnvironment(variables, servers);
  const loaded = await loadApp(raw, { env, typescriptRegistered: options.typescriptRegistered ?? false });
  const topology = validateRawTopology(raw, loaded.app, env);
  checkDeclaredDependencies(loaded.app);
  checkTopologyAgainstApp(topology, loaded.app);
  const root = packageRoot(loaded.entry);
  const relative = path.relative(root, raw.file).split(path.sep).join('/');
  if (relative.startsWith('..')) {
    throw new TopologyError(
      `topology ${raw.file} is outside the app's folder ${root}; move it there (e.g. topology/), so the image holds it`,
    );
  }
  const plan = planDeployment({ app: loaded.app, topology, raw: raw.raw, topologyFile: relative });
  assertDeployable(raw.file, plan.issues);
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version?: unknown;
    engines?: { node?: unknown };
    scripts?: { build?: unknown };
  };
  const version = typeof manifest.version === 'string' ? manifest.version : 'latest';
  const engine =
    typeof manifest.engines?.node === 'string' ? /(\d+)/.exec(manifest.engines.node)?.[1] : undefined;
  return {
    plan,
    root,
    image: `${plan.name}:${version}`,
    nodeVersion: engine ?? DEFAULT_NODE_VERSION,
    build: typeof manifest.scripts?.build === 'string',
  };
}

function packageRoot(entry: string): string {
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) {
      throw new TopologyError(
        `no package.json above the app module ${entry}; the app's folder (the image's build context) is the one with package.json and package-lock.json`,
      );
    }
  }
}

/** Options of {@link renderExport}. */
export interface RenderExportOptions {
  /** The folder the files go to (absolute). */
  readonly out: string;
  /** Kubernetes: write HorizontalPodAutoscalers. Default: false. */
  readonly hpa?: boolean;
}

/**
 * The files of a target, by path relative to the output folder. Compose builds the image from the
 * Dockerfile the `dockerfile` target writes to the same folder.
 */
export function renderExport(
  target: ExportTarget,
  prepared: PreparedExport,
  options: RenderExportOptions,
): RenderedFiles {
  const posix = (file: string) => file.split(path.sep).join('/');
  const dockerfileDir = posix(path.relative(prepared.root, options.out));
  switch (target) {
    case 'dockerfile':
      return renderDockerfile(prepared.plan, {
        nodeVersion: prepared.nodeVersion,
        dockerfileDir,
        image: prepared.image,
        build: prepared.build,
      });
    case 'compose':
      return renderCompose(prepared.plan, {
        context: posix(path.relative(options.out, prepared.root)) || '.',
        dockerfile: path.posix.join(dockerfileDir, 'Dockerfile'),
        image: prepared.image,
      });
    case 'kubernetes':
      return renderKubernetes(prepared.plan, { image: prepared.image, hpa: options.hpa ?? false });
  }
}

/** Options of {@link exportCommand}. */
export interface ExportCommandOptions {
  readonly target: ExportTarget;
  /** Path of the topology file. */
  readonly topology: string;
  /** The folder to write to. */
  readonly out: string;
  /** Replace files that differ from what the export writes. Default: false. */
  readonly force?: boolean;
  /** Kubernetes: write HorizontalPodAutoscalers. Default: false. */
  readonly hpa?: boolean;
  /** Print stack traces of coded errors too. Default: false. */
  readonly verbose?: boolean;
  /** True when a TypeScript loader is already registered. Default: false. */
  readonly typescriptRegistered?: boolean;
}

/** Runs `blueprint export`. Resolves with the exit code. */
export async function exportCommand(options: ExportCommandOptions): Promise<number> {
  try {
    const prepared = await prepareExport(options.topology, {
      typescriptRegistered: options.typescriptRegistered ?? false,
    });
    const out = path.resolve(options.out);
    const files = renderExport(options.target, prepared, { out, hpa: options.hpa ?? false });
    const changed: string[] = [];
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(out, name);
      const current = existsSync(file) ? await readFile(file, 'utf8') : undefined;
      if (current !== undefined && current !== content) changed.push(file);
    }
    if (changed.length > 0 && options.force !== true) {
      process.stderr.write(
        `blueprint: these files exist and differ from the export (edited?); nothing was written. Pass --force to replace them:\n${changed.map((file) => `  ${file}`).join('\n')}\n`,
      );
      return ExitCode.Failure;
    }
    await mkdir(out, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await writeFile(path.join(out, name), content);
      process.stdout.write(`wrote ${path.relative(process.cwd(), path.join(out, name)) || name}\n`);
    }
    for (const process_ of prepared.plan.processes) {
      if (options.target !== 'dockerfile' && process_.probes === undefined) {
        process.stdout.write(
          `note: process "${process_.name}" has neither an admin port nor an RPC address, so it has no probes; give it one with "admin": { "port": { "${process_.name}": ${freePort(prepared.plan)} } }\n`,
        );
      }
    }
    return ExitCode.Ok;
  } catch (error) {
    process.stderr.write(`blueprint: ${formatError(error, options.verbose ?? false)}\n`);
    return ExitCode.Failure;
  }
}

/** A port no process of the plan uses, to suggest for an admin listener: 9464 (Prometheus exporters' range) or above. */
function freePort(plan: DeploymentPlan): number {
  const used = new Set(
    plan.processes.flatMap((process) =>
      [process.ports.rpc, process.ports.admin, ...process.ports.public].flatMap((port) =>
        port === undefined ? [] : [port.port],
      ),
    ),
  );
  let port = 9464;
  while (used.has(port)) port++;
  return port;
}
