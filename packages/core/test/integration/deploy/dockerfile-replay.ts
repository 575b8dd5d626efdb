/**
 * Replays the steps of an exported Dockerfile outside a container, as far as a machine without a
 * container engine can: each stage is a folder standing for its `/app`, `COPY` copies between them
 * (from the build context, the ignore file applied), `RUN` runs in the stage's folder with the stage's
 * `ENV`, `ENTRYPOINT` is the command the image runs. What needs an image is not replayed: `apt-get`
 * (the toolchain must be on this machine instead), and `chown node:node` (this user owns the files).
 */
import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../../../../../test/pack/pack-workspace.js';

/** One instruction. */
interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** A parsed Dockerfile: its stages in order. */
export interface ParsedDockerfile {
  readonly stages: readonly {
    readonly from: string;
    readonly name: string | undefined;
    readonly steps: Instruction[];
  }[];
}

/** Parses the instructions of a Dockerfile (comments dropped, continuation lines joined). */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: { from: string; name: string | undefined; steps: Instruction[] }[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op === 'ARG' && stages.length === 0) continue;
    if (op === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
    } else stages.at(-1)!.steps.push({ op: op!.toUpperCase(), args });
  }
  return { stages };
}

/** What a replay ends with: the final stage's folder, environment, user and command. */
export interface ReplayResult {
  /** The folder standing for the final image's working directory. */
  readonly dir: string;
  /** `ENV` of the final stage. */
  readonly env: Readonly<Record<string, string>>;
  /** `USER` of the final stage. */
  readonly user: string | undefined;
  /** `ENTRYPOINT`, exec form. */
  readonly entrypoint: readonly string[];
  /** The `RUN` commands that ran, by stage. */
  readonly ran: readonly string[];
}

/** Options of {@link replayDockerfile}. */
export interface ReplayOptions {
  /** The build context (the app's folder). */
  readonly context: string;
  /** The patterns of the ignore file. */
  readonly ignore: readonly string[];
  /** A folder for the stages. */
  readonly work: string;
  /** The environment `RUN` starts from (PATH, HOME, npm settings). */
  readonly env: NodeJS.ProcessEnv;
}

/** Replays every stage; resolves with the final one. */
export async function replayDockerfile(
  dockerfile: ParsedDockerfile,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const dirs = new Map<string, string>();
  const ran: string[] = [];
  let result: ReplayResult | undefined;
  for (const [index, stage] of dockerfile.stages.entries()) {
    const dir = path.join(options.work, `stage-${index}-${stage.name ?? 'final'}`);
    const base = dirs.get(stage.from);
    if (base === undefined) await mkdir(dir, { recursive: true });
    else await cp(base, dir, { recursive: true, verbatimSymlinks: true });
    const env: Record<string, string> = {};
    let user: string | undefined;
    let entrypoint: string[] = [];
    for (const step of stage.steps) {
      switch (step.op) {
        case 'WORKDIR':
        case 'EXPOSE':
          break;
        case 'ENV':
          for (const [, key, value] of step.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g))
            env[key!] = value!;
          break;
        case 'USER':
          user = step.args;
          break;
        case 'ENTRYPOINT':
          entrypoint = JSON.parse(step.args) as string[];
          break;
        case 'COPY':
          await copyStep(step.args, dir, dirs, options);
          break;
        case 'RUN':
          ran.push(await runStep(step.args, dir, { ...options.env, ...env }));
          break;
        default:
          throw new Error(`the replay does not know ${step.op} ${step.args}`);
      }
    }
    if (stage.name !== undefined) dirs.set(stage.name, dir);
    result = { dir, env, user, entrypoint, ran };
  }
  return result!;
}

async function copyStep(
  args: string,
  dir: string,
  dirs: ReadonlyMap<string, string>,
  options: ReplayOptions,
) {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const [source, target] = words.filter((word) => !word.startsWith('--')).slice(-2) as [string, string];
  const destination = path.join(dir, target);
  if (from !== undefined) {
    const stageDir = dirs.get(from);
    if (stageDir === undefined) throw new Error(`COPY --from=${from}: no such stage`);
    // Paths of another stage are under its /app.
    await cp(path.join(stageDir, path.relative('/app', source)), destination, {
      recursive: true,
      verbatimSymlinks: true,
    });
    return;
  }
  const sources = words.filter((word) => !word.startsWith('--')).slice(0, -1);
  for (const item of sources) {
    if (item === '.') await copyContext(options.context, destination, options.ignore);
    else await cp(path.join(options.context, item), path.join(destination, path.basename(item)));
  }
}

/** Copies the build context as Docker sends it: without what the ignore file names. */
async function copyContext(context: string, destination: string, ignore: readonly string[]) {
  const ignored = (relative: string) =>
    ignore.some((pattern) => {
      const bare = pattern.replace(/^\*\*\//, '');
      const expression = new RegExp(
        `^${bare.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`,
      );
      return pattern.startsWith('**/')
        ? relative.split('/').some((_, i, parts) => expression.test(parts.slice(i).join('/')))
        : expression.test(relative);
    });
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(context, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (ignored(child)) continue;
      if (entry.isDirectory()) await walk(child);
      else {
        await mkdir(path.dirname(path.join(destination, child)), { recursive: true });
        await cp(path.join(context, child), path.join(destination, child));
      }
    }
  };
  await walk('');
}

async function runStep(command: string, dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (command.startsWith('apt-get ')) {
    // The image installs a toolchain for native addons; this machine must have it.
    for (const tool of ['python3', 'make', 'g++'])
      await exec('sh', ['-c', `command -v ${tool}`], dir, { env });
    return `(toolchain present) ${command}`;
  }
  const replayed = command.replace(/ && chown node:node [^&]*/, '');
  await exec('sh', ['-c', replayed], dir, { env });
  return replayed;
}
