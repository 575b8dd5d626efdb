/**
 * `npm run docs:snippets`: rewrites every snippet block of the READMEs from its file under
 * `docs/snippets/`, so a snippet is edited in its file (type-checked, run by a test) and copied here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, readmePaths, rewriteReadme } from './snippets.js';

for (const readme of readmePaths()) {
  const file = path.join(ROOT, readme);
  const before = readFileSync(file, 'utf8');
  const after = rewriteReadme(readme, before);
  if (after !== before) {
    writeFileSync(file, after);
    console.log(`updated ${readme}`);
  }
}
