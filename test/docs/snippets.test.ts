/**
 * The README block parser and rewriter that `readme-snippets.test.ts` and `npm run docs:snippets` use:
 * what they see as marked, drifted or malformed.
 */
import { describe, expect, it } from 'vitest';
import { parseBlocks, rewriteReadme, snippetText } from './snippets.js';

const fence = '```';

describe('parseBlocks', () => {
  it('reads each block with its language, text and mark', () => {
    const text = [
      '# Title',
      '<!-- snippet: core/example.ts -->',
      `${fence}ts`,
      'const a = 1;',
      fence,
      '<!-- /snippet -->',
      '',
      '<!-- output -->',
      `${fence}json`,
      '{"level":30}',
      fence,
      '<!-- fragment: needs the reader’s SDK -->',
      `${fence}ts`,
      'new NodeSDK().start();',
      fence,
      '<!-- signature -->',
      `${fence}ts`,
      'bus.publish(Event, payload): Promise<string>',
      fence,
      `${fence}sh`,
      'npm test',
      fence,
      `${fence}ts`,
      'unmarked();',
      fence,
    ].join('\n');
    const blocks = parseBlocks('README.md', text);
    expect(blocks.map((block) => [block.line, block.lang, block.mark.kind])).toEqual([
      [3, 'ts', 'snippet'],
      [9, 'json', 'output'],
      [13, 'ts', 'fragment'],
      [17, 'ts', 'signature'],
      [20, 'sh', 'none'],
      [23, 'ts', 'none'],
    ]);
    expect(blocks[0]?.mark).toEqual({ kind: 'snippet', file: 'core/example.ts', region: undefined });
    expect(blocks[0]?.text).toBe('const a = 1;');
    expect(blocks[2]?.mark).toEqual({ kind: 'fragment', reason: 'needs the reader’s SDK' });
    expect(blocks.every((block) => block.markerError === undefined)).toBe(true);
  });

  it('reports a snippet marker that is not closed, a fragment without a reason and an unclosed fence', () => {
    const text = [
      '<!-- snippet: core/example.ts#region -->',
      `${fence}ts`,
      'x();',
      fence,
      '',
      '<!-- fragment: -->',
      `${fence}ts`,
      'y();',
      fence,
      `${fence}json`,
      '{}',
    ].join('\n');
    expect(parseBlocks('README.md', text).map((block) => block.markerError)).toEqual([
      'the block is not followed by <!-- /snippet -->',
      'malformed marker <!-- fragment: -->',
      'the block is never closed',
    ]);
  });
});

describe('snippetText', () => {
  it('gives a region dedented, joining its segments and leaving the hidden lines out', () => {
    const text = snippetText('events/nats.ts', 'nats');
    expect(text.startsWith("import { createEventBus } from '@blueprint/events';")).toBe(true);
    expect(text.endsWith('await bus.stop();')).toBe(true);
    expect(text).not.toContain('waitFor');
    expect(text).not.toContain('#region');
    expect(snippetText('core/create-app.ts', 'create')).toBe(
      "const app = await createApp(definition, { topology: 'topology/split.json', process: 'front' });",
    );
  });

  it('refuses a region the file does not have', () => {
    expect(() => snippetText('core/example.ts', 'nowhere')).toThrow(/has no region "nowhere"/);
  });
});

describe('rewriteReadme', () => {
  it('replaces a drifted snippet block with its file and fixes its language, leaving the rest as it is', () => {
    const text = [
      'Before.',
      '<!-- snippet: core/create-app.ts#create -->',
      `${fence}js`,
      'const app = await createApp(oldArguments);',
      'const extra = true;',
      fence,
      '<!-- /snippet -->',
      `${fence}ts`,
      'untouched();',
      fence,
    ].join('\n');
    expect(rewriteReadme('README.md', text)).toBe(
      [
        'Before.',
        '<!-- snippet: core/create-app.ts#create -->',
        `${fence}ts`,
        "const app = await createApp(definition, { topology: 'topology/split.json', process: 'front' });",
        fence,
        '<!-- /snippet -->',
        `${fence}ts`,
        'untouched();',
        fence,
      ].join('\n'),
    );
  });
});
