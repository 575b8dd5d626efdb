// biome-ignore-all lint/suspicious/noTemplateCurlyInString: a Dockerfile reads ${NODE_VERSION}
/**
 * The `dockerfile` target: one image for every process of the app. A multi-stage build installs the
 * production dependencies with `npm ci --omit=dev` from the lockfile (native addons compile there),
 * runs the app's build script, when it has one, with every dependency in a second stage, and copies
 * the app and the production dependencies into a final stage without compilers or dev dependencies, running as the unprivileged `node` user with
 * `NODE_ENV=production`. `BLUEPRINT_PROCESS` picks the process; the entry point is exec form, so
 * `SIGTERM` reaches Node, which drains before it exits.
 */
import path from 'node:path';
import { CONTAINER_WORKDIR } from './container-topology.js';
import type { DeploymentPlan } from './plan.js';

/** Options of {@link renderDockerfile}. */
export interface DockerfileOptions {
  /** The Node.js major version of the base image (`node:<version>-bookworm-slim`). */
  readonly nodeVersion: string;
  /**
   * Where the Dockerfile is written, relative to the build context (the app's folder), e.g.
   * `deploy`; `''` when it is written in the app's folder itself.
   */
  readonly dockerfileDir: string;
  /** The image name the build command in the header tags, e.g. `shop:0.1.0`. */
  readonly image: string;
  /**
   * True when the app's `package.json` has a `build` script: a stage with every dependency runs it.
   * Without one the sources run as they are (a `.ts` app through tsx) and that stage is left out.
   */
  readonly build: boolean;
}

/** The files of a target: path (relative to the output folder) → content. */
export type RenderedFiles = Readonly<Record<string, string>>;

/** The command of the image, relative to its working directory (what `ENTRYPOINT` runs). */
export const IMAGE_ENTRYPOINT = ['node', 'node_modules/@blueprint/core/bin/blueprint.js', 'start'] as const;

/** The variables `blueprint start` reads the topology file and the process from. */
export const START_ENV = { topology: 'BLUEPRINT_TOPOLOGY', process: 'BLUEPRINT_PROCESS' } as const;

/**
 * The file names Docker reads an ignore file from: `.dockerignore` at the root of the build context,
 * `<Dockerfile>.dockerignore` beside a Dockerfile elsewhere (BuildKit).
 */
export function dockerignoreName(dockerfileDir: string): string {
  return dockerfileDir === '' ? '.dockerignore' : 'Dockerfile.dockerignore';
}

/** Renders `Dockerfile` and its ignore file. */
export function renderDockerfile(plan: DeploymentPlan, options: DockerfileOptions): RenderedFiles {
  const dockerfile = path.posix.join(options.dockerfileDir, 'Dockerfile');
  return {
    Dockerfile: dockerfileText(plan, options, dockerfile),
    [dockerignoreName(options.dockerfileDir)]: dockerignoreText(plan),
  };
}

function dockerfileText(plan: DeploymentPlan, options: DockerfileOptions, dockerfile: string): string {
  const ports = [
    ...new Set(
      plan.processes.flatMap((process) =>
        [process.ports.rpc, process.ports.admin, ...process.ports.public].flatMap((port) =>
          port === undefined ? [] : [port.port],
        ),
      ),
    ),
  ].sort((a, b) => a - b);
  const dirs = plan.dataDirs.map((dir) => dir.path);
  const processes = plan.processes.map((process) => process.name).join(', ');
  const lines = [
    '# syntax=docker/dockerfile:1',
    `# The image of app "${plan.app}": one image for every process of ${plan.files.topology}`,
    `# (${processes}).`,
    `# ${START_ENV.process} picks the process, as compose.yaml and the Kubernetes Deployments set it.`,
    '# Written by `blueprint export dockerfile`; edit it freely. Build it from the app folder (the',
    '# one with package.json and package-lock.json):',
    `#   docker build -f ${dockerfile} -t ${options.image} .`,
    '',
    `ARG NODE_VERSION=${options.nodeVersion}`,
    '',
    '# Production dependencies, from the lockfile. Native addons compile here when no prebuilt',
    '# binary fits, so the toolchain stays out of the final image.',
    'FROM node:${NODE_VERSION}-bookworm-slim AS deps',
    `WORKDIR ${CONTAINER_WORKDIR}`,
    'RUN apt-get update \\',
    ' && apt-get install -y --no-install-recommends python3 make g++ \\',
    ' && rm -rf /var/lib/apt/lists/*',
    'COPY package.json package-lock.json ./',
    'RUN npm ci --omit=dev --no-audit --no-fund',
    '',
    ...(options.build
      ? [
          '# Every dependency, for the build script of the app.',
          'FROM deps AS build',
          'RUN npm ci --no-audit --no-fund',
          'COPY . .',
          'RUN npm run build && rm -rf node_modules',
          '',
        ]
      : []),
    '# What runs: the app and its production dependencies; no compiler, no dev dependency, not root.',
    ...(options.build
      ? []
      : [
          '# package.json has no build script, so the sources run as they are; export again once it has one.',
        ]),
    'FROM node:${NODE_VERSION}-bookworm-slim',
    'ENV NODE_ENV=production',
    `WORKDIR ${CONTAINER_WORKDIR}`,
    `COPY --from=deps ${CONTAINER_WORKDIR}/node_modules ./node_modules`,
    options.build ? `COPY --from=build ${CONTAINER_WORKDIR} ./` : 'COPY . .',
    ...(dirs.length === 0
      ? []
      : [
          `# Directories the app writes (${plan.dataDirs.map((dir) => `settings.${dir.setting}`).join(', ')}).`,
          `RUN mkdir -p ${dirs.join(' ')} && chown node:node ${dirs.join(' ')}`,
        ]),
    'USER node',
    `ENV ${START_ENV.topology}=${plan.files.topology} ${START_ENV.process}=`,
    ...(ports.length === 0 ? [] : [`EXPOSE ${ports.join(' ')}`]),
    '# Exec form: Node is PID 1 and receives SIGTERM itself.',
    `ENTRYPOINT [${IMAGE_ENTRYPOINT.map((arg) => JSON.stringify(arg)).join(', ')}]`,
    '',
  ];
  return lines.join('\n');
}

function dockerignoreText(plan: DeploymentPlan): string {
  const dirs = plan.dataDirs
    .map((dir) => dir.path.replace(/^\.\//, ''))
    .filter((dir) => !dir.startsWith('/'));
  return [
    '# What the image build leaves out: installed and generated files, local data, secrets.',
    'node_modules',
    '**/node_modules',
    '.git',
    '.env',
    '.env.*',
    '*.log',
    'coverage',
    ...dirs,
    '',
  ].join('\n');
}
