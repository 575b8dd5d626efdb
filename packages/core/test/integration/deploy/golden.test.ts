/**
 * The golden exports of the examples match what `blueprint export` writes today: a change to a
 * renderer or to an example's topology shows up as a diff to review (`npm run deploy:golden`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIRS, GOLDEN_EXPORTS, outOf, renderGolden } from './golden-exports.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

describe('golden exports', () => {
  it('are what the export writes (regenerate them with npm run deploy:golden)', {
    timeout: 60_000,
  }, async () => {
    const expected = new Map<string, string>();
    for (const entry of GOLDEN_EXPORTS) {
      for (const [name, content] of Object.entries(await renderGolden(entry))) {
        expected.set(path.join(outOf(entry), name), content);
      }
    }
    const onDisk = GOLDEN_DIRS.flatMap(filesUnder).sort();
    expect(onDisk, 'files in deploy/ folders, regenerate with npm run deploy:golden').toEqual(
      [...expected.keys()].sort(),
    );
    for (const [file, content] of expected) {
      expect(readFileSync(file, 'utf8'), `${file} drifted; run npm run deploy:golden`).toBe(content);
    }
  });
});
