/**
 * Decorator metadata, and method decorators that work whatever the user's compiler emits.
 *
 * Decorators only record what they ask for; the plugin that owns a decorator reads it back in its link.
 * The record is kept on the method's function itself (under a registered symbol), so it is readable from
 * the class without an instance, and it needs neither `reflect-metadata` nor `Symbol.metadata`. Nothing
 * is global: the same class can be used by two apps with different plugins.
 *
 * TypeScript compiles decorators in two ways: with `"experimentalDecorators": true` (tsc's legacy form,
 * which tsyringe's parameter decorators need) a method decorator is called as `(prototype, name,
 * descriptor)`; without it (the default of `tsc --init`, tsx and esbuild) as TC39 standard decorators,
 * `(method, context)`. {@link methodDecorator} accepts both, so `@Cached` or `@Retry` never silently do
 * nothing.
 */
import { AppDefinitionError } from '../errors.js';

const METADATA = Symbol.for('blueprint:method-metadata');

type Recorded = Record<string, unknown>;

function recordOf(fn: unknown): Recorded | undefined {
  if (typeof fn !== 'function') return undefined;
  return Object.hasOwn(fn, METADATA) ? (fn as unknown as { [METADATA]: Recorded })[METADATA] : undefined;
}

function record(fn: Function, key: string, value: unknown): void {
  const existing = recordOf(fn) ?? {};
  Object.defineProperty(fn, METADATA, {
    value: Object.freeze({ ...existing, [key]: value }),
    configurable: true,
    enumerable: false,
  });
}

/**
 * Records decorator metadata for one method of a class: `prototype[method]` (the class itself for a
 * static method) must be a function.
 *
 * @example
 * setMethodMetadata(Catalog.prototype, 'get', 'audit', true);
 */
export function setMethodMetadata(
  prototype: object,
  method: string | symbol,
  key: string,
  value: unknown,
): void {
  const fn = (prototype as Record<string | symbol, unknown>)[method];
  if (typeof fn !== 'function') {
    throw new AppDefinitionError(`cannot record "${key}" on ${String(method)}: it is not a method`);
  }
  record(fn, key, value);
}

/**
 * Reads metadata recorded for `method` of an instance's class (or of a class), searching the prototype
 * chain; a method a link wrapped in place still answers with the decorated method's record.
 */
export function getMethodMetadata<T = unknown>(instance: object, method: string, key: string): T | undefined {
  const prototype = typeof instance === 'function' ? instance.prototype : Object.getPrototypeOf(instance);
  if (!prototype) return undefined;
  return recordOf((prototype as Record<string, unknown>)[method])?.[key] as T | undefined;
}

/** Where a method decorator was applied. */
export interface MethodDecoratorSite {
  /** `@Cached on ProductsService.get` (TC39 decorators do not tell the class: `@Cached on get`). */
  readonly where: string;
  /** The method name. */
  readonly method: string;
  /** The class name, when the compiler tells it (legacy decorators), else undefined. */
  readonly className: string | undefined;
  /** What this method already recorded under `key` (another decorator of the same family). */
  read<T = unknown>(key: string): T | undefined;
  /** Records `value` under `key` for this method. */
  record(key: string, value: unknown): void;
}

/**
 * A method decorator for both compiler settings: `(prototype, name, descriptor)` with
 * `experimentalDecorators`, `(method, context)` without.
 */
export type DualMethodDecorator = {
  (prototype: object, method: string | symbol, descriptor: PropertyDescriptor): void;
  (method: Function, context: ClassMethodDecoratorContext): void;
};

function isStandardContext(value: unknown): value is DecoratorContext {
  return (
    typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/**
 * Builds a method decorator that works under legacy and TC39 standard decorators. `apply` runs when the
 * class is defined: check options there and throw, so a mistake shows at once. Used on anything but a
 * method it throws `APP_INVALID` naming the decorator.
 *
 * @example
 * export const Audited = (level: string) => methodDecorator('@Audited', (site) => site.record('audit', level));
 */
export function methodDecorator(
  decorator: string,
  apply: (site: MethodDecoratorSite) => void,
): DualMethodDecorator {
  return ((target: unknown, second: unknown, descriptor?: PropertyDescriptor) => {
    let fn: unknown;
    let method: string;
    let className: string | undefined;
    if (isStandardContext(second)) {
      if (second.kind !== 'method') {
        throw new AppDefinitionError(
          `${decorator} goes on a method, not on a ${second.kind}${second.name === undefined ? '' : ` (${String(second.name)})`}`,
        );
      }
      fn = target;
      method = String(second.name);
    } else {
      fn = descriptor?.value;
      method = String(second);
      const owner = target as { constructor?: { name?: string }; name?: string };
      className = typeof target === 'function' ? owner.name : owner?.constructor?.name;
      if (typeof fn !== 'function') {
        throw new AppDefinitionError(
          `${decorator} goes on a method, not on ${className ?? 'a class'}.${method}, which is not one`,
        );
      }
    }
    const method_ = fn as Function;
    apply({
      where: `${decorator} on ${className === undefined ? method : `${className}.${method}`}`,
      method,
      className,
      read: <T>(key: string) => recordOf(method_)?.[key] as T | undefined,
      record: (key, value) => record(method_, key, value),
    });
  }) as DualMethodDecorator;
}
