/**
 * Service contracts: the zod-typed description of what a service offers. Application code depends on
 * contracts, never on another service's implementation class, so the topology can place the
 * implementation in this process or in another one.
 */
import type { InjectionToken } from 'tsyringe';
import type { z } from 'zod';
import { AppDefinitionError, type CodedErrorClass } from './errors.js';

/** One method of a contract. */
export interface MethodDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Schema of the single input argument. Use `z.void()` for methods without input. */
  readonly input: I;
  /** Schema of the result. Remote results are decoded through it, so `Date`s come back as `Date`s. */
  readonly output: O;
  /**
   * True when running the method twice has the same effect as once (reads usually are).
   * Only idempotent methods are retried by resilience policies. Default: false.
   */
  readonly idempotent?: boolean;
  /** A sentence for documentation and `blueprint graph`. */
  readonly description?: string;
}

/** The methods of a contract, by name. */
export type MethodDefinitions = Record<string, MethodDefinition>;

/**
 * What travels with a call: cancellation, deadline and propagated headers. Implementations receive it as
 * their second argument; callers may pass it as the second argument of a client method.
 */
export interface CallContext {
  /** Aborted when the caller gives up (its signal, its deadline, or its connection closing). */
  readonly signal?: AbortSignal | undefined;
  /** Absolute deadline in epoch milliseconds; remote transports pass the remaining time along. */
  readonly deadline?: number | undefined;
  /** Relative timeout in milliseconds for this call (caller side); turned into a deadline. */
  readonly timeout?: number | undefined;
  /** Propagated headers such as `x-correlation-id` and `traceparent` (lower-case names). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * The process that made this call, as the RPC server verified its credential (`auth`); undefined for
   * an in-process call or when calls are not authenticated.
   */
  readonly caller?: string | undefined;
}

/** The absolute deadline of a call (epoch ms): its `deadline`, else now plus its `timeout`; undefined with neither. */
export function callDeadline(context: CallContext | undefined): number | undefined {
  return context?.deadline ?? (context?.timeout !== undefined ? Date.now() + context.timeout : undefined);
}

/** The client a caller receives for a contract: the same methods, always async, parsed output. */
export type ServiceClient<M extends MethodDefinitions> = {
  readonly [K in keyof M]: (
    input: z.input<M[K]['input']>,
    context?: CallContext,
  ) => Promise<z.output<M[K]['output']>>;
};

/**
 * The shape an implementation class must have: for each method, a function of the parsed input that
 * resolves to a value the output schema accepts.
 */
export type ServiceImplementation<M extends MethodDefinitions> = {
  [K in keyof M]: (input: z.output<M[K]['input']>, context?: CallContext) => Promise<z.input<M[K]['output']>>;
};

/** Options of {@link defineService}. */
export interface ContractOptions {
  /**
   * Error classes the service throws on purpose. A remote caller rebuilds these classes from their code,
   * so `instanceof` and `code` checks behave the same locally and remotely. Built-in errors
   * (`NotFoundError`, `ValidationError`, ...) are always known.
   */
  readonly errors?: readonly CodedErrorClass[];
  /** A sentence for documentation and `blueprint graph`. */
  readonly description?: string;
  /**
   * The contract's version, a whole number raised with each change, for the messages of a call between
   * incompatible versions (`CONTRACT_MISMATCH` names both). Compatibility is decided by the schemas, not
   * the number. Default: 1.
   */
  readonly version?: number;
  /**
   * The events this service publishes (anything with a `name`, such as `defineEvent(...)` results from
   * `@blueprint/events`). `blueprint graph` draws an arrow from the service to each subscriber, and the
   * events plugin warns when a process publishes an event none of its services declares. Default: none.
   *
   * @example
   * defineService('orders', { ... }, { publishes: [OrderPlaced] })
   */
  readonly publishes?: readonly { readonly name: string }[];
}

/** A service contract made by {@link defineService}. */
export interface ServiceContract<N extends string = string, M extends MethodDefinitions = MethodDefinitions> {
  /** Marks contract objects. */
  readonly kind: 'blueprint:contract';
  /** Service name; unique in an app. Used by the topology and on the wire. */
  readonly name: N;
  /** Method definitions by name. */
  readonly methods: M;
  /**
   * Method names, in declaration order. Typed `string[]`, not `keyof M`: a `keyof` here would make
   * contracts invariant in `M`, and no contract would be assignable to {@link AnyContract}.
   */
  readonly methodNames: readonly string[];
  /** Error classes rebuilt on the caller side. */
  readonly errors: readonly CodedErrorClass[];
  /** Description, if given. */
  readonly description: string | undefined;
  /** Names of the events the service declares it publishes. */
  readonly publishes: readonly string[];
  /** The contract's version (default 1). */
  readonly version: number;
  /** The DI token: inject it to receive the client, e.g. `@inject(Products.token)`. */
  readonly token: InjectionToken<ServiceClient<M>>;
}

/** Any contract. */
export type AnyContract = ServiceContract<string, MethodDefinitions>;

/** The client type of a contract. */
export type ClientOf<C extends AnyContract> = ServiceClient<C['methods']>;
/** The implementation type of a contract: `class ProductsService implements ImplementationOf<typeof Products>`. */
export type ImplementationOf<C extends AnyContract> = ServiceImplementation<C['methods']>;
/** The input type of one method of a contract. */
export type InputOf<C extends AnyContract, K extends keyof C['methods']> = z.input<C['methods'][K]['input']>;
/** The output type of one method of a contract. */
export type OutputOf<C extends AnyContract, K extends keyof C['methods']> = z.output<
  C['methods'][K]['output']
>;

const SERVICE_NAME = /^[a-z][a-z0-9-]*$/;
const METHOD_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_METHODS = new Set(['constructor', 'then', 'onStart', 'onStop', 'toString', 'toJSON']);

/**
 * Declares a service contract.
 *
 * @example
 * export const Products = defineService('products', {
 *   get: { input: z.object({ id: z.string() }), output: Product, idempotent: true },
 *   reserve: { input: z.object({ id: z.string(), quantity: z.number().int() }), output: z.void() },
 * }, { errors: [OutOfStockError] });
 */
export function defineService<const N extends string, const M extends MethodDefinitions>(
  name: N,
  methods: M,
  options: ContractOptions = {},
): ServiceContract<N, M> {
  if (!SERVICE_NAME.test(name)) {
    throw new AppDefinitionError(
      `invalid service name "${name}": use lower-case letters, digits and dashes, starting with a letter (e.g. "products")`,
    );
  }
  for (const [method, definition] of Object.entries(methods)) {
    if (!METHOD_NAME.test(method) || RESERVED_METHODS.has(method)) {
      throw new AppDefinitionError(
        `invalid method name "${name}.${method}": use an identifier that is not reserved`,
      );
    }
    if (
      !definition ||
      typeof definition.input?.safeParse !== 'function' ||
      typeof definition.output?.safeParse !== 'function'
    ) {
      throw new AppDefinitionError(
        `method "${name}.${method}" needs zod schemas for both "input" and "output"`,
      );
    }
  }
  return Object.freeze({
    kind: 'blueprint:contract',
    name,
    methods,
    methodNames: Object.keys(methods),
    errors: Object.freeze([...(options.errors ?? [])]),
    description: options.description,
    publishes: Object.freeze((options.publishes ?? []).map((event) => event.name)),
    version: options.version ?? 1,
    token: Symbol.for(`blueprint:service:${name}`) as InjectionToken<ServiceClient<M>>,
  });
}

/** True when `value` is a contract made by {@link defineService}. */
export function isContract(value: unknown): value is AnyContract {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'blueprint:contract'
  );
}
