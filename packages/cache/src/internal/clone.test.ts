import { jsonCodec } from '@blueprint/core/transport';
import { describe, expect, it } from 'vitest';
import { cloneValue, copierFor } from './clone.js';

const samples: Record<string, unknown> = {
  primitive: 42,
  string: 'text',
  empty: {},
  flat: { id: 'p1', price: 1.5, ok: true, none: null },
  nested: { id: 'p1', stock: { count: 1, where: { shelf: 'a' } }, tags: ['a', 'b'] },
  rows: [
    { id: 1, tags: ['x'], at: new Date(1) },
    { id: 2, tags: ['y', 'z'], at: new Date(2) },
  ],
  mixedArray: [1, { a: 1 }, null, [2]],
  objectsThenPrimitive: [{ a: 1 }, { a: 2 }, 3],
  rowsWithNullableField: [{ a: { b: 1 } }, { a: null }, { a: { b: 2 } }],
  rowsOfDifferentShapes: [{ a: 1 }, { b: 2 }],
  arrayOfArrays: [
    [1, 2],
    [3, 4],
  ],
  types: { m: new Map([['k', { v: 1 }]]), s: new Set([1, 2]), big: 10n, bytes: new Uint8Array([1, 2]) },
  deep: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
};

/** What a store holds: the codec's decoding of the value. */
const stored = (value: unknown) => jsonCodec.decode(jsonCodec.encode(value));

function mutateEverything(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) mutateEverything(item);
    value.push('mutated');
  } else if (value instanceof Map) value.set('mutated', 1);
  else if (value instanceof Set) value.add('mutated');
  else if (value instanceof Date) value.setTime(0);
  else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) mutateEverything(item);
    (value as Record<string, unknown>).mutated = true;
  }
}

describe('planned copies', () => {
  for (const [name, sample] of Object.entries(samples)) {
    it(`copies ${name} exactly and independently`, () => {
      const master = stored(sample);
      const snapshot = stored(sample);
      const copy = copierFor(master);
      const first = copy(master);
      expect(first).toEqual(master);
      mutateEverything(first);
      expect(master).toEqual(snapshot);
      expect(copy(master)).toEqual(snapshot);
      expect(cloneValue(master)).toEqual(snapshot);
    });
  }

  it('the generic copy turns class instances into what the codec makes of them', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(cloneValue({ p: new Point(1, 2) })).toEqual({ p: { x: 1, y: 2 } });
    expect((cloneValue({ p: new Point(1, 2) }) as { p: object }).p.constructor).toBe(Object);
  });
});
