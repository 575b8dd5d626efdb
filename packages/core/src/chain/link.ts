/**
 * The call chain. Everything on a contract call's path is a {@link Link}: validation, the call's limits,
 * observability, resilience policies, method interceptors such as the cache, load balancing and
 * authentication, and the terminal link that runs the call (`local`, or a transport). Links are composed
 * once per method, never per call; a link that does not apply to a method stays out of its chain, so a
 * method with no links is the method itself.
 *
 * The same chain is entered from three sides, told apart by {@link LinkTarget.entry}:
 *
 * ```
 * call    a client method in the calling process: context → observability → validation → policies
 *         → interceptors → routing → auth → terminal (local: the hosted method; remote: the transport)
 * serve   the RPC server, for a call from another process: context → observability → validation → terminal
 * method  a method of a hosted implementation or of a provider: its decorators (policies, interceptors)
 *         composed onto the method itself, so they apply however it is reached (a local call, a served
 *         call, an event handler, `this.method()`)
 * ```
 *
 * The context comes first so every other link reads it; observability comes before validation so a
 * call refused by its schema is counted, logged and traced like any other failed call.
 */
import type { AnyContract, MethodDefinition } from '../contract.js';

/**
 * A method on the call path. Contract methods are `(input, context?) => Promise<output>`; provider
 * methods take any arguments.
 */
export type Invocation = (...args: any[]) => any;

/** Where a link sits in a chain; links are ordered by stage, then by the order they were added. */
export type LinkStage =
  | 'context'
  | 'observability'
  | 'validation'
  | 'policy'
  | 'interceptor'
  | 'routing'
  | 'auth';

/** The stages from the outside in. */
export const LINK_STAGES: readonly LinkStage[] = Object.freeze([
  'context',
  'observability',
  'validation',
  'policy',
  'interceptor',
  'routing',
  'auth',
]);

/** Which side enters the chain; see the module documentation. */
export type LinkEntry = 'call' | 'serve' | 'method';

/** What a link is told about the method whose chain is being built. */
export interface LinkTarget {
  /** Which side enters the chain. */
  readonly entry: LinkEntry;
  /** Where the implementation runs: in this process (`local`) or in another one (`remote`). */
  readonly placement: 'local' | 'remote';
  /** The process building the chain. */
  readonly process: string;
  /** The class name of the implementation or provider (`ProductsService`), or `<service>Client`. */
  readonly className: string;
  /** The method name. */
  readonly method: string;
  /** The contract, for contract methods. */
  readonly contract?: AnyContract | undefined;
  /** The contract's definition of the method, for contract methods. */
  readonly definition?: MethodDefinition | undefined;
  /** The implementation or provider instance, for `method` entries (decorators are read from it). */
  readonly instance?: object | undefined;
}

/** A function that takes the rest of the chain and returns the method with this link in front. */
export type LinkHandler = (next: Invocation) => Invocation;

/**
 * One link of the call chain.
 *
 * @example
 * const audit: Link = {
 *   name: 'audit',
 *   stage: 'interceptor',
 *   wrap: (target) => target.entry === 'serve'
 *     ? (next) => async (input, context) => { log(target.method); return next(input, context); }
 *     : undefined,
 * };
 */
export interface Link {
  /** Name for diagnostics. */
  readonly name: string;
  /** Where the link sits in the chain. */
  readonly stage: LinkStage;
  /** Called once per method when the chain is built: return the handler, or undefined to stay out. */
  wrap(target: LinkTarget): LinkHandler | undefined;
}

const STAGE_INDEX = new Map(LINK_STAGES.map((stage, index) => [stage, index]));

/** The links in chain order: by stage, and in the order given within a stage. */
export function orderLinks(links: readonly Link[]): Link[] {
  return links
    .map((link, index) => ({ link, index }))
    .sort(
      (a, b) =>
        (STAGE_INDEX.get(a.link.stage) ?? 0) - (STAGE_INDEX.get(b.link.stage) ?? 0) || a.index - b.index,
    )
    .map((entry) => entry.link);
}

/**
 * Composes the links that apply to `target` in front of `terminal`. `links` must be in chain order
 * ({@link orderLinks}). Returns `terminal` itself when no link applies.
 */
export function composeChain(links: readonly Link[], target: LinkTarget, terminal: Invocation): Invocation {
  const handlers: LinkHandler[] = [];
  for (const link of links) {
    const handler = link.wrap(target);
    if (handler !== undefined) handlers.push(handler);
  }
  let invocation = terminal;
  for (let i = handlers.length - 1; i >= 0; i--) invocation = handlers[i]!(invocation);
  return invocation;
}
