/**
 * How a process creates the instances of its classes (hosted implementations and class providers):
 * checked, resolved by the container, their decorators composed onto their methods, and remembered in
 * creation order for `onStart` / `onStop`.
 */
import type { DependencyContainer } from 'tsyringe';
import type { Link } from '../chain/link.js';
import { applyMethodLinks } from '../chain/method-links.js';
import type { AnyContract } from '../contract.js';
import { AppDefinitionError } from '../errors.js';
import type { Constructor } from '../service.js';

/**
 * Constructor parameters tsyringe could only fill with `undefined`: neither an `@inject` token nor a
 * type from decorator metadata. Without this check such a class is built with missing dependencies.
 */
function parametersWithoutToken(cls: Constructor): number[] {
  if (cls.length === 0) return [];
  const types = Reflect.getMetadata('design:paramtypes', cls) as readonly unknown[] | undefined;
  const tokens = Reflect.getOwnMetadata('injectionTokens', cls) as Record<number, unknown> | undefined;
  const missing: number[] = [];
  for (let index = 0; index < cls.length; index++) {
    if (tokens?.[index] === undefined && types?.[index] === undefined) missing.push(index);
  }
  return missing;
}

/** The instances a process created, in creation order. */
export class Instances {
  /** Every instance created, in order. */
  readonly created: object[] = [];

  /**
   * @param links the process's links in chain order, read when the first instance is created (after the
   *   plugins added theirs)
   */
  constructor(
    private readonly links: () => readonly Link[],
    private readonly process: string,
  ) {}

  /** Creates an instance of `cls` through `resolver`; for a hosted service, checks it implements `contract`. */
  create(cls: Constructor, resolver: DependencyContainer, contract?: AnyContract): object {
    const unnamed = parametersWithoutToken(cls);
    if (unnamed.length > 0) {
      throw new AppDefinitionError(
        `cannot create ${cls.name}: constructor parameter(s) ${unnamed.map((i) => `#${i}`).join(', ')} have no @inject(TOKEN) and no decorator metadata names their type (tsx and esbuild emit none); add @inject(TOKEN) to each`,
      );
    }
    let instance: object;
    try {
      instance = resolver.resolve(cls);
    } catch (error) {
      throw new AppDefinitionError(
        `cannot create ${cls.name}: ${(error as Error).message}. Mark the class @injectable() and give every constructor parameter an explicit @inject(TOKEN)`,
        { cause: error },
      );
    }
    if (contract !== undefined) {
      const missing = contract.methodNames.filter(
        (method) => typeof (instance as Record<string, unknown>)[method] !== 'function',
      );
      if (missing.length > 0) {
        throw new AppDefinitionError(
          `${cls.name} does not implement ${missing.map((m) => `${contract.name}.${m}`).join(', ')}; add the method(s) to the class`,
        );
      }
    }
    applyMethodLinks(instance, this.links(), { process: this.process, contract });
    this.created.push(instance);
    return instance;
  }
}
