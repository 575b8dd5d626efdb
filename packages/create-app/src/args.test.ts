import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.js';

describe('parseCommand', () => {
  it('takes a directory, a template and --no-install', () => {
    expect(parseCommand(['my-app'])).toEqual({
      kind: 'create',
      directory: 'my-app',
      template: 'minimal',
      install: true,
    });
    expect(parseCommand(['--template', 'shop', 'my-shop', '--no-install'])).toEqual({
      kind: 'create',
      directory: 'my-shop',
      template: 'shop',
      install: false,
    });
    expect(parseCommand(['-t', 'shop', 'x'])).toMatchObject({ template: 'shop' });
  });

  it('answers --help and --version without a directory', () => {
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommand(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommand(['--version'])).toEqual({ kind: 'version' });
  });

  it('refuses a missing directory, two directories and unknown options with a usage error', () => {
    expect(() => parseCommand([])).toThrow(
      /name the directory of the new app, e\.g\. `npm create @blueprint\/app my-app`/,
    );
    expect(() => parseCommand(['a', 'b'])).toThrow('one directory only, got 2: "a" "b"');
    expect(() => parseCommand(['a', '--tempate', 'shop'])).toThrow(/--tempate/);
    try {
      parseCommand([]);
    } catch (error) {
      expect(error).toMatchObject({ code: 'CREATE_APP_USAGE', exitCode: 2 });
    }
  });
});
