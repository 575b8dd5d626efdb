/** The README's option tables list exactly the options the schemas take. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { busShape } from './bus-options.js';
import { BUILT_IN_TRANSPORTS } from './config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The names in the first column of the table that follows `<!-- options: <name> -->`. */
function optionTable(name: string): string[] {
  const start = readme.indexOf(`<!-- options: ${name} -->`);
  if (start < 0) throw new Error(`README has no <!-- options: ${name} --> table`);
  const lines = readme.slice(start).split('\n').slice(1);
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1]!.trim();
    rows.push(/^`([^`]+)`$/.exec(cell)?.[1] ?? cell);
  }
  return rows;
}

describe('README', () => {
  it('lists every key of the events section that every type takes', () => {
    expect(optionTable('events').sort()).toEqual(['type', ...Object.keys(busShape)].sort());
  });

  it.each(BUILT_IN_TRANSPORTS.map((driver) => [driver.type, driver] as const))(
    'lists every option of the %s transport, as its schema has them',
    (type, driver) => {
      const keys = Object.keys(driver.schema.shape).filter((key) => key !== 'type');
      expect(optionTable(type).sort()).toEqual(keys.sort());
      expect(readme).toContain(`| \`${type}\``);
    },
  );
});
