/**
 * Services and providers of an app: a contract paired with the class that implements it, and the other
 * injectables (repositories, clients) a process creates.
 */
import type { InjectionToken } from 'tsyringe';
import type { AnyContract, ImplementationOf } from './contract.js';
import { isContract } from './contract.js';
import { AppDefinitionError } from './errors.js';

/** A class constructor. */
export type Constructor<T = object> = new (...args: any[]) => T;

/**
 * Optional lifecycle methods of a service implementation or provider: `onStart` runs when the process
 * starts (seed data, open a listener), `onStop` when it stops (close it).
 */
export interface OnStart {
  /** Called once when the process starts, after plugins started. */
  onStart(): Promise<void> | void;
}
/** See {@link OnStart}. */
export interface OnStop {
  /** Called once when the process stops, in reverse creation order. */
  onStop(): Promise<void> | void;
}

/** A service of the app: its contract and the class that implements it. */
export interface ServiceRegistration<C extends AnyContract = AnyContract> {
  readonly contract: C;
  readonly implementation: Constructor<ImplementationOf<C>>;
}

/**
 * Pairs a contract with its implementation class; the class is type-checked against the contract.
 *
 * @example
 * service(Products, ProductsService)
 */
export function service<C extends AnyContract>(
  contract: C,
  implementation: Constructor<ImplementationOf<C>>,
): ServiceRegistration<C> {
  if (!isContract(contract))
    throw new AppDefinitionError(
      'service(contract, implementation): the first argument is not a contract made by defineService',
    );
  if (typeof implementation !== 'function') {
    throw new AppDefinitionError(`service "${contract.name}": the implementation must be a class`);
  }
  return { contract, implementation };
}

/** A provider: something the process container resolves for a token. Class providers get interceptors. */
export type Provider<T = unknown> =
  | { readonly token: InjectionToken<T>; readonly useClass: Constructor<T> }
  | { readonly token: InjectionToken<T>; readonly useValue: T }
  | {
      readonly token: InjectionToken<T>;
      readonly useFactory: (resolve: <R>(token: InjectionToken<R>) => R) => T;
    };
