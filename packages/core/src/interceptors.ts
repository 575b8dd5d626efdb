/**
 * Method interception: the seam through which `@Cached`, `@CircuitBreaker` and topology policies wrap
 * methods. An interceptor is asked once per instance and method, when the app creates the instance;
 * when no interceptor applies, the instance is left untouched (no proxy, no wrapper).
 *
 * Decorators only record metadata on the class ({@link setMethodMetadata}); the plugin that owns the
 * decorator reads it back in its interceptor. Nothing is global: the same class can be used by two
 * apps with different plugins.
 */
import 'reflect-metadata';
import type { AnyContract, MethodDefinition } from './contract.js';

/** A method as interceptors see it: any arguments, any result. */
export type Invocation = (...args: any[]) => any;

/** Where an intercepted method lives. */
export type InterceptionKind =
  /** A service implementation hosted in this process. */
  | 'local'
  /** A client of a service hosted in another process. */
  | 'remote'
  /** Any other class registered as an app provider. */
  | 'provider';

/** What an interceptor is told about the method it may wrap. */
export interface InterceptionTarget {
  /** Where the method lives. */
  readonly kind: InterceptionKind;
  /** The object whose method is wrapped (the implementation, the remote client or the provider). */
  readonly instance: object;
  /** The class name of the instance, for names of breakers and metrics. */
  readonly className: string;
  /** The method name. */
  readonly method: string;
  /** The contract, for service implementations and remote clients. */
  readonly contract?: AnyContract | undefined;
  /** The contract's definition of this method, when the method is a contract method. */
  readonly definition?: MethodDefinition | undefined;
  /** The process that creates the instance. */
  readonly process: string;
}

/**
 * Wraps methods. Return a function that takes the next invocation and returns the wrapped one, or
 * `undefined` to leave the method alone.
 *
 * @example
 * const timing: MethodInterceptor = {
 *   name: 'timing',
 *   intercept: (target) => target.kind === 'local' ? (next) => async (...args) => { ... await next(...args) ... } : undefined,
 * };
 */
export interface MethodInterceptor {
  /** Name for diagnostics. */
  readonly name: string;
  /** Decides whether and how to wrap one method. Called once per instance and method. */
  intercept(target: InterceptionTarget): ((next: Invocation) => Invocation) | undefined;
}

const METADATA_PREFIX = 'blueprint:method:';

/**
 * Records decorator metadata for one method of a class. Use it inside a method decorator.
 *
 * @example
 * export const Audited = (): MethodDecorator => (proto, method) => setMethodMetadata(proto, method, 'audit', true);
 */
export function setMethodMetadata(
  prototype: object,
  method: string | symbol,
  key: string,
  value: unknown,
): void {
  Reflect.defineMetadata(METADATA_PREFIX + key, value, prototype, method);
}

/** Reads metadata recorded by {@link setMethodMetadata} (searching the prototype chain). */
export function getMethodMetadata<T = unknown>(instance: object, method: string, key: string): T | undefined {
  const prototype = typeof instance === 'function' ? instance.prototype : Object.getPrototypeOf(instance);
  if (!prototype) return undefined;
  return Reflect.getMetadata(METADATA_PREFIX + key, prototype, method) as T | undefined;
}

/** Names of the methods of an instance's class chain (not `constructor`, not `Object`'s). */
export function methodNamesOf(instance: object): string[] {
  const names = new Set<string>();
  let prototype = Object.getPrototypeOf(instance);
  while (prototype && prototype !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
    prototype = Object.getPrototypeOf(prototype);
  }
  for (const name of Object.keys(instance)) {
    if (typeof (instance as Record<string, unknown>)[name] === 'function') names.add(name);
  }
  return [...names];
}

/**
 * Applies interceptors to an instance in place: each wrapped method becomes an own property of the
 * instance. The first interceptor in the list is the outermost. Returns the number of wrapped methods.
 */
export function applyInterceptors(
  instance: object,
  interceptors: readonly MethodInterceptor[],
  describe: Omit<InterceptionTarget, 'instance' | 'method' | 'definition' | 'className'> & {
    className?: string;
  },
): number {
  if (interceptors.length === 0) return 0;
  const className = describe.className ?? instance.constructor?.name ?? 'Object';
  let wrapped = 0;
  for (const method of methodNamesOf(instance)) {
    const target: InterceptionTarget = {
      ...describe,
      className,
      instance,
      method,
      definition: describe.contract?.methods[method],
    };
    const wrappers: ((next: Invocation) => Invocation)[] = [];
    for (const interceptor of interceptors) {
      const wrapper = interceptor.intercept(target);
      if (wrapper) wrappers.push(wrapper);
    }
    if (wrappers.length === 0) continue;
    const original = (instance as Record<string, Invocation>)[method]!;
    let invocation: Invocation = original.bind(instance);
    for (let i = wrappers.length - 1; i >= 0; i--) invocation = wrappers[i]!(invocation);
    Object.defineProperty(instance, method, {
      value: invocation,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    wrapped++;
  }
  return wrapped;
}
