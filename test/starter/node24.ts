/**
 * A Node 24 binary for the starter test, from the npm registry's `node` package (it ships the binary
 * of the platform), installed once into a cache folder outside the repository:
 * `BLUEPRINT_NODE24_DIR`, default `~/.cache/blueprint/node24`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { exec } from '../pack/pack-workspace.js';

/** The major version the test runs the generated app with, besides the running Node. */
export const NODE24_RANGE = '24';

/** Where the `node` package is installed. */
export const node24Dir =
  process.env.BLUEPRINT_NODE24_DIR || path.join(homedir(), '.cache', 'blueprint', 'node24');

/**
 * The folder holding a Node 24 `node` binary (to put first on `PATH`), installing `node@24` into
 * {@link node24Dir} when it is not there yet. A failed download throws a message saying how to fix it;
 * the test fails rather than skips.
 */
export async function node24BinDir(): Promise<string> {
  const binDir = path.join(node24Dir, 'node_modules', 'node', 'bin');
  const binary = path.join(binDir, process.platform === 'win32' ? 'node.exe' : 'node');
  if (!(await isNode24(binary))) {
    await mkdir(node24Dir, { recursive: true });
    // The package's install script fetches the platform's binary package; npm 11 runs it only when the
    // project allows it.
    await writeFile(
      path.join(node24Dir, 'package.json'),
      `${JSON.stringify({ private: true, allowScripts: { node: true } }, null, 2)}\n`,
    );
    try {
      await exec(
        'npm',
        ['install', '--prefix', node24Dir, `node@${NODE24_RANGE}`, '--no-audit', '--no-fund'],
        node24Dir,
        { timeout: 300_000 },
      );
    } catch (error) {
      throw new Error(
        `could not install node@${NODE24_RANGE} from the npm registry into ${node24Dir}: the starter test runs the generated app on Node 24 too. Check the network or the npm registry settings, or install it by hand: npm install --prefix ${node24Dir} node@${NODE24_RANGE}`,
        { cause: error },
      );
    }
    if (!(await isNode24(binary))) {
      throw new Error(
        `npm installed node@${NODE24_RANGE} into ${node24Dir}, but ${binary} is not a Node 24 binary`,
      );
    }
  }
  return binDir;
}

async function isNode24(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  try {
    const { stdout } = await exec(binary, ['--version'], path.dirname(binary));
    return stdout.trim().startsWith(`v${NODE24_RANGE}.`);
  } catch {
    return false;
  }
}
