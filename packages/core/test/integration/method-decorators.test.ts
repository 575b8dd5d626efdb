import { describe, expect, it } from 'vitest';
import { DECORATOR_SETTINGS, importCompiled } from '../../../../test/harness/index.js';

const source = `
import { getMethodMetadata, methodDecorator } from '@blueprint/core/plugin';

export const Audited = (level: string) =>
  methodDecorator('@Audited', (site) => {
    if (site.read('audit') !== undefined) throw new Error(site.where + ' twice');
    site.record('audit', { level, method: site.method });
  });

export class Catalog {
  @Audited('info')
  async get(id: string) {
    return 'item ' + id;
  }
  async count() {
    return 1;
  }
}

export const read = (target: object, method: string) => getMethodMetadata(target, method, 'audit');
`;

describe.each(DECORATOR_SETTINGS)('methodDecorator with %s decorators', (setting) => {
  it('records on the method, readable from the class and from an instance; the method still works', async () => {
    const mod = await importCompiled('audited', source, setting);
    const Catalog = mod.Catalog as new () => { get(id: string): Promise<string>; count(): Promise<number> };
    const read = mod.read as (target: object, method: string) => unknown;
    expect(read(Catalog, 'get')).toEqual({ level: 'info', method: 'get' });
    expect(read(new Catalog(), 'get')).toEqual({ level: 'info', method: 'get' });
    expect(read(new Catalog(), 'count')).toBeUndefined();
    expect(await new Catalog().get('a')).toBe('item a');
  });

  it('refuses to decorate anything but a method, at class definition time, naming the decorator', async () => {
    const onField = `
import { methodDecorator } from '@blueprint/core/plugin';
const Audited = () => methodDecorator('@Audited', () => undefined);
export class Broken {
  // @ts-ignore: a method decorator on a field
  @Audited() name = 'x';
}
`;
    await expect(importCompiled('audited-field', onField, setting)).rejects.toThrow(
      /@Audited goes on a method/,
    );
  });
});
