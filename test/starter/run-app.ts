/**
 * Runs an npm script of a generated app as a user would (`npm start`), waits for the CLI's ready line,
 * and stops it with SIGTERM.
 *
 * The signal goes to the app's process, whose pid the ready line prints (`pid=4242`), as a process
 * manager would send it: npm starts the script through `sh -c`, and a SIGTERM sent to npm itself stops
 * npm and the shell but never reaches the app (it is left running, adopted by init).
 */
import { spawn } from 'node:child_process';

/** A running `npm start`. */
export interface RunningScript {
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once `pattern` appears on stdout; rejects when the script exits first or after `timeout`. */
  waitFor(pattern: RegExp, timeout?: number): Promise<void>;
  /**
   * Sends SIGTERM to the app's process (the pid of its ready line) and resolves with npm's exit code and
   * signal once npm exited: `{ code: 0, signal: null }` when the app stopped cleanly.
   */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGINT to npm's whole process group, as Ctrl-C in a terminal does, and waits for npm to exit. */
  interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `npm run <script>` in `cwd`. */
export function runScript(script: string, cwd: string, env: NodeJS.ProcessEnv): RunningScript {
  // In its own process group, so that `interrupt()` reaches every process of it, as Ctrl-C does.
  const child = spawn('npm', ['run', script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let stdout = '';
  const listeners = new Set<() => void>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      resolve({ code, signal });
      for (const listener of listeners) listener();
    });
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });

  return {
    output: () => output,
    waitFor(pattern, timeout = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`npm run ${script} printed no ${pattern} within ${timeout} ms; output:\n${output}`),
          );
        }, timeout);
        const check = () => {
          if (pattern.test(stdout)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (closed || child.exitCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`npm run ${script} exited before printing ${pattern}; output:\n${output}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
    async interrupt() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async stop() {
      const pid = /blueprint: ready .*\bpid=(\d+)/.exec(stdout)?.[1];
      if (child.exitCode === null && child.signalCode === null) {
        if (pid === undefined) child.kill('SIGTERM');
        else process.kill(Number(pid), 'SIGTERM');
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        if (pid !== undefined) process.kill(Number(pid), 'SIGKILL');
      }, 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
