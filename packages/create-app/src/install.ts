/** Runs `npm install` in the new app, with npm's own output on the terminal. */
import { spawn } from 'node:child_process';

/** Runs `npm install` in `cwd` and resolves with its exit code. */
export function npmInstall(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund'], {
      cwd,
      env: installEnv(env),
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/**
 * The environment of the install. `npm create` runs this CLI as an npm script would, with variables that
 * describe the folder it was started in (`npm_config_local_prefix`, `npm_package_*`); they would point the
 * inner install at that folder, so they are dropped. The user's npm settings (registry, cache, proxy,
 * `--prefer-offline`) stay.
 */
export function installEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([key]) => !/^npm_(?:package_|lifecycle_|config_local_prefix$|command$)/i.test(key),
    ),
  );
}
