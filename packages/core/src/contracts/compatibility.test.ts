import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineService } from '../contract.js';
import {
  describeContract,
  fingerprintOf,
  incompatibilities,
  jsonSchemaOf,
  schemaIncompatibilities,
} from './compatibility.js';

const Item = z.object({ id: z.string(), priceCents: z.number().int() });
const v1 = defineService(
  'products',
  {
    get: { input: z.object({ id: z.string() }), output: Item },
    reserve: { input: z.object({ id: z.string(), quantity: z.number().int() }), output: z.void() },
    byColour: { input: z.object({ colour: z.enum(['red', 'blue']) }), output: z.array(Item) },
  },
  { version: 1 },
);

const variant = (methods: Parameters<typeof defineService>[1]) =>
  defineService('products', methods, { version: 2 });
const diff = (server: ReturnType<typeof variant>, method?: string) =>
  incompatibilities(describeContract(v1), describeContract(server), method);

describe('contract compatibility', () => {
  it('finds nothing between equal contracts, and gives them one fingerprint', () => {
    expect(describeContract(v1).fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(diff(variant({ ...v1.methods }))).toEqual([]);
    expect(describeContract(variant({ ...v1.methods })).fingerprint).toBe(describeContract(v1).fingerprint);
  });

  it('lets compatible changes pass: a new optional input field, a new method, a new output field, a new enum value', () => {
    const server = variant({
      ...v1.methods,
      get: {
        input: z.object({ id: z.string(), locale: z.string().optional() }),
        output: Item.extend({ name: z.string() }),
      },
      byColour: { input: z.object({ colour: z.enum(['red', 'blue', 'green']) }), output: z.array(Item) },
      list: { input: z.void(), output: z.array(Item) },
    });
    expect(diff(server)).toEqual([]);
    expect(describeContract(server).fingerprint).not.toBe(describeContract(v1).fingerprint);
  });

  it('names a removed method, a new required input field, a changed type, and a removed output field', () => {
    const { reserve: _gone, ...rest } = v1.methods;
    expect(diff(variant(rest))).toEqual(['reserve: the server has no such method']);
    expect(
      diff(
        variant({
          ...v1.methods,
          get: { input: z.object({ id: z.string(), tenant: z.string() }), output: Item },
        }),
      ),
    ).toEqual(['get input.tenant: the server requires it, the caller does not send it']);
    expect(
      diff(variant({ ...v1.methods, get: { input: z.object({ id: z.number() }), output: Item } })),
    ).toEqual(['get input.id: the caller sends string, the other side takes number']);
    expect(
      diff(
        variant({
          ...v1.methods,
          get: { input: z.object({ id: z.string() }), output: z.object({ id: z.string() }) },
        }),
      ),
    ).toEqual(['get output.priceCents: the caller requires it, the server does not return it']);
    expect(
      diff(
        variant({
          ...v1.methods,
          byColour: { input: z.object({ colour: z.enum(['red']) }), output: z.array(Item) },
        }),
      ),
    ).toEqual(['byColour input.colour: blue not accepted by the other side']);
  });

  it("reads only the schemas' own names, never what every object inherits", () => {
    const caller = defineService('products', {
      valueOf: { input: z.object({ constructor: z.string() }), output: z.void() },
    });
    const server = defineService('products', {
      valueOf: { input: z.object({ constructor: z.number() }), output: z.void() },
    });
    expect(incompatibilities(describeContract(caller), describeContract(server))).toEqual([
      'valueOf input.constructor: the caller sends string, the other side takes number',
    ]);
    const strict = defineService('products', {
      valueOf: { input: z.strictObject({ id: z.string().optional() }), output: z.void() },
    });
    expect(incompatibilities(describeContract(caller), describeContract(strict))).toEqual([
      'valueOf input.constructor: the other side refuses unknown fields',
    ]);
    const requiresToString = defineService('products', {
      valueOf: { input: z.object({ constructor: z.string(), toString: z.string() }), output: z.void() },
    });
    expect(incompatibilities(describeContract(caller), describeContract(requiresToString))).toEqual([
      'valueOf input.toString: the server requires it, the caller does not send it',
    ]);
    const without = defineService('products', { other: { input: z.void(), output: z.void() } });
    expect(incompatibilities(describeContract(caller), describeContract(without))).toEqual([
      'valueOf: the server has no such method',
    ]);
  });

  it('checks one method on its own: a removed method does not block calls to the others', () => {
    const { reserve: _gone, ...rest } = v1.methods;
    expect(diff(variant(rest), 'get')).toEqual([]);
    expect(diff(variant(rest), 'reserve')).toEqual(['reserve: the server has no such method']);
  });

  it('compares two schemas on their own, naming the sides as asked', () => {
    const parties = { reader: 'the consumer', writer: 'the publisher', verb: 'send', verbs: 'sends' };
    const reader = jsonSchemaOf(z.object({ id: z.string(), total: z.number(), note: z.string().optional() }));
    const writer = jsonSchemaOf(z.object({ id: z.number(), note: z.string().optional() }));
    expect(schemaIncompatibilities(reader, writer, 'order.placed payload', parties)).toEqual([
      'order.placed payload.total: the consumer requires it, the publisher does not send it',
      'order.placed payload.id: the publisher sends number, the other side takes string',
    ]);
    expect(schemaIncompatibilities(writer, writer, 'order.placed payload', parties)).toEqual([]);
    expect(fingerprintOf(reader)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(reader)).toBe(fingerprintOf(JSON.parse(JSON.stringify(reader))));
    expect(fingerprintOf(reader)).not.toBe(fingerprintOf(writer));
  });
});
