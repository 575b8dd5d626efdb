/**
 * README code blocks and the snippet files they come from (see `test/docs/README.md`).
 *
 * A README block is one of:
 * - a snippet: `<!-- snippet: <file>[#<region>] -->`, the fenced block, `<!-- /snippet -->`; the block's
 *   text is the file under `docs/snippets/` (or the named region of it), byte for byte;
 * - marked as not code to run, on the line right above the fence: `<!-- output -->` (what a command or
 *   a process prints), `<!-- signature -->` (an API shape in signature notation), or
 *   `<!-- fragment: <why> -->` (a deliberately incomplete piece, with the reason);
 * - in a language that is not checked (`sh`, `mermaid`, plain text, ...).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the snippet files live. */
export const SNIPPETS_DIR = path.join(ROOT, 'docs', 'snippets');

/** Fence languages whose blocks must be snippets or marked: code a reader would copy. */
export const CHECKED_LANGUAGES: ReadonlySet<string> = new Set([
  'ts',
  'typescript',
  'tsx',
  'js',
  'javascript',
  'mjs',
  'json',
  'jsonc',
]);

/** How a block is marked. */
export type BlockMark =
  | { readonly kind: 'snippet'; readonly file: string; readonly region: string | undefined }
  | { readonly kind: 'output' }
  | { readonly kind: 'signature' }
  | { readonly kind: 'fragment'; readonly reason: string }
  | { readonly kind: 'none' };

/** One fenced block of a README. */
export interface ReadmeBlock {
  /** README path relative to the root. */
  readonly readme: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's language (`''` when none). */
  readonly lang: string;
  /** The text between the fences, without the final newline. */
  readonly text: string;
  readonly mark: BlockMark;
  /** A problem with the markers around the block (a snippet marker not closed, ...). */
  readonly markerError?: string;
  /** 0-based line indexes of the content (first and one past the last), for rewriting. */
  readonly contentStart: number;
  readonly contentEnd: number;
}

const SNIPPET_OPEN = /^<!-- snippet: ([a-z0-9][a-z0-9/._-]*)(?:#([a-z0-9-]+))? -->$/;
const SNIPPET_CLOSE = '<!-- /snippet -->';
const FRAGMENT = /^<!-- fragment: (.*\S) -->$/;

/** The READMEs whose blocks are checked, relative to the root. */
export function readmePaths(): string[] {
  const found = ['README.md'];
  for (const parent of ['packages', 'examples']) {
    for (const entry of readdirSync(path.join(ROOT, parent), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const readme = path.join(parent, entry.name, 'README.md');
      try {
        readFileSync(path.join(ROOT, readme));
        found.push(readme);
      } catch {
        // a package without a README has no blocks to check
      }
    }
  }
  return found;
}

/** Every fenced block of a README text, with its mark. */
export function parseBlocks(readme: string, text: string): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(\S*)\s*$/.exec(lines[index] ?? '');
    if (fence === null) continue;
    const open = index;
    let close = open + 1;
    while (close < lines.length && lines[close] !== '```') close++;
    const above = lines[open - 1] ?? '';
    let mark: BlockMark = { kind: 'none' };
    let markerError: string | undefined;
    const snippet = SNIPPET_OPEN.exec(above);
    const fragment = FRAGMENT.exec(above);
    if (snippet !== null) {
      mark = { kind: 'snippet', file: snippet[1] ?? '', region: snippet[2] };
      if (lines[close + 1] !== SNIPPET_CLOSE) markerError = `the block is not followed by ${SNIPPET_CLOSE}`;
    } else if (above === '<!-- output -->') mark = { kind: 'output' };
    else if (above === '<!-- signature -->') mark = { kind: 'signature' };
    else if (fragment !== null) mark = { kind: 'fragment', reason: fragment[1] ?? '' };
    else if (above.startsWith('<!-- snippet') || above.startsWith('<!-- fragment'))
      markerError = `malformed marker ${above}`;
    if (close >= lines.length) markerError = 'the block is never closed';
    blocks.push({
      readme,
      line: open + 1,
      lang: fence[1] ?? '',
      text: lines.slice(open + 1, close).join('\n'),
      mark,
      contentStart: open + 1,
      contentEnd: close,
      ...(markerError === undefined ? {} : { markerError }),
    });
    index = close;
  }
  return blocks;
}

/** The fence language a snippet file is shown with. */
export function languageOf(file: string): string {
  const extension = path.extname(file).slice(1);
  return extension === 'mjs' ? 'js' : extension;
}

/**
 * The text a README shows for a snippet: the whole file without its final newline, or the lines between
 * `// #region <name>` and `// #endregion <name>` (several such segments are joined, so checks may sit
 * between them), dedented by their common indentation.
 */
export function snippetText(file: string, region: string | undefined): string {
  const source = readFileSync(path.join(SNIPPETS_DIR, file), 'utf8');
  if (region === undefined) return source.replace(/\n$/, '');
  const body: string[] = [];
  let inside = false;
  let segments = 0;
  for (const line of source.split('\n')) {
    if (line.trim() === `// #region ${region}`) {
      inside = true;
      segments++;
    } else if (line.trim() === `// #endregion ${region}`) inside = false;
    else if (inside && !/^\s*\/\/ #(end)?region /.test(line)) body.push(line);
  }
  if (segments === 0 || inside)
    throw new Error(`${file} has no region "${region}" (// #region ${region} … // #endregion ${region})`);
  const indent = Math.min(
    ...body.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0),
  );
  // Biome may keep a blank line before an `#endregion` comment that precedes an import: drop edge blanks.
  return body
    .map((line) => line.slice(indent))
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/** Every file under `docs/snippets/`, relative to it, sorted. */
export function snippetFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(SNIPPETS_DIR, dir), { withFileTypes: true })) {
      const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else files.push(relative);
    }
  };
  walk('');
  return files.sort();
}

/** Rewrites the snippet blocks of a README text from their files; returns the new text. */
export function rewriteReadme(readme: string, text: string): string {
  const lines = text.split('\n');
  const blocks = parseBlocks(readme, text).filter((block) => block.mark.kind === 'snippet');
  for (const block of blocks.reverse()) {
    if (block.mark.kind !== 'snippet') continue;
    const replacement = snippetText(block.mark.file, block.mark.region).split('\n');
    lines.splice(block.contentStart, block.contentEnd - block.contentStart, ...replacement);
    lines[block.contentStart - 1] = `\`\`\`${languageOf(block.mark.file)}`;
  }
  return lines.join('\n');
}
