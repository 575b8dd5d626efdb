/**
 * Dependency injection, re-exported from tsyringe so an app and Blueprint share one copy.
 *
 * Give every constructor parameter an explicit `@inject(TOKEN)`: code then runs the same whether or
 * not the compiler emits decorator metadata (tsc does; esbuild, tsx and SWC without the option do not).
 */
import 'reflect-metadata';
import { type InjectionToken, inject, injectable } from 'tsyringe';
import type { AnyContract } from './contract.js';
import { AppDefinitionError } from './errors.js';

export { type DependencyContainer, type InjectionToken, inject, injectable, singleton } from 'tsyringe';

/**
 * Injects the client of a contract: shorthand for `@inject(Contract.token)`.
 *
 * @example
 * constructor(@injectService(Products) private readonly products: ClientOf<typeof Products>) {}
 */
export function injectService(contract: AnyContract): ParameterDecorator {
  return inject(contract.token) as ParameterDecorator;
}

/** A dependency of {@link withDependencies}: an injection token, or a contract (its client is injected). */
export type Dependency = InjectionToken<unknown> | AnyContract;

/**
 * Declares the constructor dependencies of a class without decorator syntax, for plain JavaScript (or a
 * compiler without `experimentalDecorators`): the same as `@injectable()` on the class and
 * `@inject(token)` on each parameter, in order. Returns the class.
 *
 * @example
 * export class OrdersService {
 *   constructor(products, settings) { ... }
 * }
 * withDependencies(OrdersService, [Products, CoreTokens.Settings]);
 */
export function withDependencies<C extends new (...args: any[]) => object>(
  cls: C,
  dependencies: readonly Dependency[],
): C {
  dependencies.forEach((dependency, index) => {
    const token = isContractLike(dependency) ? dependency.token : dependency;
    (inject(token as InjectionToken<unknown>) as (target: object, key: undefined, index: number) => void)(
      cls,
      undefined,
      index,
    );
  });
  injectable()(cls);
  return cls;
}

function isContractLike(value: unknown): value is AnyContract {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'blueprint:contract'
  );
}

/** A method decorator in the form `experimentalDecorators` compiles: what `@Cached(...)` and friends return. */
type LegacyMethodDecorator = (prototype: object, method: string, descriptor: PropertyDescriptor) => unknown;

/**
 * Applies method decorators without decorator syntax: `decorate(Class, { get: [Cached({ ttl: '1m' })] })`
 * is `@Cached({ ttl: '1m' })` on `Class.prototype.get`. Several decorators on one method apply as the
 * same list written above the method would (the last one first). Returns the class.
 *
 * @example
 * decorate(ProductsService, { get: [Cached({ ttl: '30s' })], reserve: [CacheInvalidate({ tags: ['products'] })] });
 */
export function decorate<C extends new (...args: any[]) => object>(
  cls: C,
  methods: Readonly<Record<string, readonly unknown[]>>,
): C {
  for (const [method, decorators] of Object.entries(methods)) {
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, method);
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new AppDefinitionError(`decorate(${cls.name}, ...): ${cls.name} has no method "${method}"`);
    }
    for (const decorator of [...decorators].reverse()) {
      (decorator as LegacyMethodDecorator)(cls.prototype, method, descriptor);
    }
  }
  return cls;
}
