/**
 * Runs the same decorated source under both of TypeScript's decorator settings: `experimentalDecorators`
 * (the legacy form, as this repository compiles) and TC39 standard decorators (the default of
 * `tsc --init`, tsx and esbuild). The source is compiled with TypeScript itself and imported through the
 * test runner, so `@blueprint/*` imports resolve as in any test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The two compiler settings. */
export const DECORATOR_SETTINGS = ['legacy', 'standard'] as const;

/** One of {@link DECORATOR_SETTINGS}. */
export type DecoratorSetting = (typeof DECORATOR_SETTINGS)[number];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, 'test', '.compiled');

/**
 * Compiles `source` (TypeScript) with the given decorator setting and imports it. `name` makes the file
 * name unique per test.
 *
 * @example
 * const mod = await importCompiled('cached', source, 'standard');
 */
export async function importCompiled(
  name: string,
  source: string,
  setting: DecoratorSetting,
): Promise<Record<string, unknown>> {
  const legacy = setting === 'legacy';
  const { outputText, diagnostics } = ts.transpileModule(source, {
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      experimentalDecorators: legacy,
      emitDecoratorMetadata: legacy,
      useDefineForClassFields: !legacy,
    },
  });
  if (diagnostics !== undefined && diagnostics.length > 0) {
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
    throw new Error(`the fixture ${name} does not compile (${setting}):\n${text}`);
  }
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.${setting}.${process.pid}.${Date.now()}.mjs`);
  writeFileSync(file, outputText);
  return (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
}
