/**
 * `npm run deploy:golden`: writes the golden exports of the examples with the `blueprint export` CLI,
 * replacing what is there. Run it after changing a renderer or an example's topology, and commit the
 * result; the drift test fails until then.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { GOLDEN_DIRS, GOLDEN_EXPORTS, outOf, repositoryRoot, topologyOf } from './golden-exports.js';

const launcher = path.join(repositoryRoot, 'packages/core/bin/blueprint.js');
for (const dir of GOLDEN_DIRS) rmSync(dir, { recursive: true, force: true });
for (const entry of GOLDEN_EXPORTS) {
  execFileSync(
    process.execPath,
    [launcher, 'export', entry.target, '--topology', topologyOf(entry), '--out', outOf(entry), '--force'],
    { cwd: repositoryRoot, stdio: 'inherit', env: { ...process.env, BLUEPRINT_CLI_SOURCE: '1' } },
  );
}
