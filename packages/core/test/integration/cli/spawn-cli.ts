/**
 * Runs the `blueprint` CLI as a child process for tests, from the TypeScript sources (so a stale
 * `dist/` never hides a change), and collects what it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The committed launcher, as npm links it to `node_modules/.bin/blueprint`. */
export const LAUNCHER = fileURLToPath(new URL('../../../bin/blueprint.js', import.meta.url));

/** How a CLI process ended. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running CLI process. */
export interface CliRun {
  /** The child process. */
  readonly child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Waits until stdout matches `pattern` (fails early if the process exits first). */
  waitForStdout(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  /** Resolves once the process exited and its output was read. */
  readonly exited: Promise<CliExit>;
}

const running = new Set<ChildProcess>();

/** Spawns `blueprint ...args`. Extra `env` is added to the test's environment. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BLUEPRINT_CLI_SOURCE: '1', FORCE_COLOR: '0', NO_COLOR: '1', ...env },
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exit: CliExit | undefined;
  const exited = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout(pattern, timeout = 30_000) {
      return new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match) done(() => resolve(match));
          else if (exit)
            done(() => reject(failure(`the CLI exited (${JSON.stringify(exit)}) before printing`)));
        };
        const failure = (what: string) =>
          new Error(`${what} ${pattern}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
        const timer = setTimeout(
          () => done(() => reject(failure(`timed out after ${timeout}ms waiting for`))),
          timeout,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('close', check);
          settle();
        };
        child.stdout.on('data', check);
        child.on('close', check);
        check();
      });
    },
  };
}

/** Kills every CLI process a test left running (call in `afterEach`). */
export function killLeftoverClis(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
