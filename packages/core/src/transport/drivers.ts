/**
 * Drivers: every RPC transport, event transport and cache store is a folder that exports one
 * descriptor `{ type, schema, create }`. The zod schema is the single source of the driver's options
 * (their type, defaults and checks); a topology section is the union of the registered descriptors, so
 * adding a driver touches no `switch`. A descriptor loads its client library only in `create`, so
 * registering it costs nothing.
 */
import { z } from 'zod';

/**
 * A driver descriptor. `Instance` is what `create` builds (a transport, a store); `Context` is what the
 * owner of the section passes besides the options (the app name, an error sink, ...).
 *
 * @example
 * export const memoryStore = defineDriver({
 *   type: 'memory',
 *   schema: z.strictObject({ type: z.literal('memory'), maxEntries: countSchema.default(10_000) }),
 *   create: (options) => new MemoryStore(options),
 * });
 */
export interface DriverDescriptor<
  Type extends string = string,
  Schema extends z.ZodObject = z.ZodObject,
  Instance = unknown,
  Context = unknown,
> {
  /** The value of `type` in the topology section that selects this driver. */
  readonly type: Type;
  /** Strict zod schema of the driver's section, `type` literal included. */
  readonly schema: Schema;
  /** Builds the driver from its parsed options. Connects nothing until the instance is started. */
  create(options: z.output<Schema>, context: Context): Instance | Promise<Instance>;
}

/** Identity helper that checks a descriptor's shape and keeps its literal types. */
export function defineDriver<Type extends string, Schema extends z.ZodObject, Instance, Context>(
  descriptor: DriverDescriptor<Type, Schema, Instance, Context>,
): DriverDescriptor<Type, Schema, Instance, Context> {
  const typeSchema = descriptor.schema.shape.type as z.ZodType | undefined;
  if (typeSchema === undefined || !typeSchema.safeParse(descriptor.type).success) {
    throw new TypeError(
      `driver "${descriptor.type}": its schema needs \`type: z.literal(${JSON.stringify(descriptor.type)})\``,
    );
  }
  return descriptor;
}

/** Any descriptor, as registries hold them. */
export type AnyDriver<Instance = unknown, Context = any> = DriverDescriptor<
  string,
  z.ZodObject,
  Instance,
  Context
>;

/**
 * Builds the zod schema of a topology section from the registered descriptors: a discriminated union on
 * `type` whose error for an unknown or missing type lists the allowed ones. `common` keys (options of
 * the section's owner, such as handler defaults of the event bus) are accepted by every type.
 *
 * @example
 * const cacheSectionSchema = driverSectionSchema('cache store', [memoryStore, redisStore]);
 */
export function driverSectionSchema(
  what: string,
  drivers: readonly AnyDriver[],
  common: z.ZodRawShape = {},
): z.ZodType {
  if (drivers.length === 0) throw new TypeError(`${what}: no drivers registered`);
  const seen = new Set<string>();
  for (const driver of drivers) {
    if (seen.has(driver.type)) throw new TypeError(`${what}: two drivers have the type "${driver.type}"`);
    seen.add(driver.type);
  }
  const options = drivers.map((driver) =>
    Object.keys(common).length === 0 ? driver.schema : driver.schema.safeExtend(common).strict(),
  );
  return discriminatedByType(what, options as [z.ZodObject, ...z.ZodObject[]]);
}

/** A discriminated union on `type` whose error for an unknown or missing `type` lists the allowed values. */
export function discriminatedByType<const Options extends readonly [z.ZodObject, ...z.ZodObject[]]>(
  what: string,
  options: Options,
) {
  return z.discriminatedUnion('type', options as never, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const allowed = (issue as { options?: unknown[] }).options ?? [];
      const input = issue.input as { type?: unknown } | undefined;
      const given = input && typeof input === 'object' ? input.type : undefined;
      return given === undefined
        ? `missing "type" for ${what}; allowed: ${allowed.join(', ')}`
        : `unknown ${what} ${JSON.stringify(given)}; allowed: ${allowed.join(', ')}`;
    },
  }) as unknown as z.ZodDiscriminatedUnion<[...Options]>;
}

/** The descriptor a parsed section selects. */
export function driverFor<D extends AnyDriver>(drivers: readonly D[], type: string): D {
  const found = drivers.find((driver) => driver.type === type);
  if (found === undefined) {
    throw new TypeError(`no driver "${type}"; registered: ${drivers.map((d) => d.type).join(', ')}`);
  }
  return found;
}

/**
 * The options of a parsed section that belong to its driver: the keys of the driver's schema, without
 * `type` and without the section owner's common keys, undefined values dropped.
 */
export function driverOptions<D extends AnyDriver>(
  driver: D,
  section: Readonly<Record<string, unknown>>,
): z.output<D['schema']> {
  const out: Record<string, unknown> = { type: driver.type };
  for (const key of Object.keys(driver.schema.shape)) {
    const value = section[key];
    if (key !== 'type' && value !== undefined) out[key] = value;
  }
  return out as z.output<D['schema']>;
}
