import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILT_IN_CACHE_STORES } from './config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Options a store's factory takes in code only, besides those of its schema. */
const CODE_ONLY: Readonly<Record<string, readonly string[]>> = {
  memory: [],
  redis: ['client'],
  tiered: ['client'],
};

interface Row {
  readonly option: string;
  readonly default: string;
}

/** The rows of the option table under the README's `### <type>` heading. */
function optionTable(type: string): Row[] {
  const start = readme.indexOf(`\n### ${type}\n`);
  if (start < 0) throw new Error(`the README has no "### ${type}" section`);
  const lines = readme.slice(start).split('\n');
  const header = lines.findIndex((line) => line.startsWith('| option'));
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [option = '', defaultCell = ''] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    const name = /^`([^`]+)`$/.exec(option)?.[1];
    if (name === undefined) throw new Error(`option cell ${JSON.stringify(option)} is not one code span`);
    rows.push({ option: name, default: defaultCell });
  }
  return rows;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The options of a schema by dotted name (`breaker.threshold`), without `type`. */
function optionsOf(shape: Readonly<Record<string, z.ZodType>>, prefix = ''): Map<string, z.ZodType> {
  const options = new Map<string, z.ZodType>();
  for (const [key, field] of Object.entries(shape)) {
    if (key === 'type') continue;
    const inner = unwrap(field);
    if (inner instanceof z.ZodObject) {
      for (const [name, nested] of optionsOf(inner.shape, `${prefix}${key}.`)) options.set(name, nested);
    } else options.set(prefix + key, field);
  }
  return options;
}

describe('the README option tables', () => {
  for (const driver of BUILT_IN_CACHE_STORES) {
    const options = optionsOf(driver.schema.shape as Record<string, z.ZodType>);

    it(`list every option of the ${driver.type} store's schema, and no other`, () => {
      const documented = optionTable(driver.type).map((row) => row.option);
      expect(new Set(documented).size).toBe(documented.length);
      expect([...documented].sort()).toEqual([...options.keys(), ...(CODE_ONLY[driver.type] ?? [])].sort());
    });

    it(`give the ${driver.type} store's defaults as its schema has them`, () => {
      for (const row of optionTable(driver.type)) {
        const field = options.get(row.option);
        if (field === undefined) continue;
        const literal = /^`([^`<>]+)`$/.exec(row.default)?.[1];
        const schemaDefault = field.safeParse(undefined);
        if (row.default === 'required') {
          expect(schemaDefault.success, `${row.option} is required`).toBe(false);
        } else if (literal !== undefined) {
          const written = (
            (field instanceof z.ZodDefault ? field.removeDefault() : field) as z.ZodType
          ).parse(JSON.parse(literal));
          expect(schemaDefault.data, `default of ${row.option}`).toEqual(written);
        } else {
          expect(schemaDefault.data, `${row.option} has no default in the schema`).toBeUndefined();
        }
      }
    });

    it(`keep the ${driver.type} store's nested defaults in step with their fields`, () => {
      for (const [key, field] of Object.entries(driver.schema.shape as Record<string, z.ZodType>)) {
        const inner = unwrap(field);
        if (!(inner instanceof z.ZodObject) || !(field instanceof z.ZodDefault)) continue;
        expect(field.parse(undefined), key).toEqual(inner.parse({}));
      }
    });
  }
});
