/**
 * Dependency injection, re-exported from tsyringe so an app and Blueprint share one copy.
 *
 * Give every constructor parameter an explicit `@inject(TOKEN)`: code then runs the same whether or
 * not the compiler emits decorator metadata (tsc does; esbuild, tsx and SWC without the option do not).
 */
import 'reflect-metadata';
import { inject } from 'tsyringe';
import type { AnyContract } from './contract.js';

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
