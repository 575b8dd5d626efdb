/**
 * What each class of an app depends on, read from its constructor's injection tokens (tsyringe keeps
 * `@inject` tokens as metadata; tsc's decorator metadata adds parameter types): the contracts a service
 * calls, directly or through the class providers it injects. `createApp` checks the app with it before
 * building anything; `blueprint graph` draws it.
 */
import 'reflect-metadata';
import type { Provider } from '../service.js';

const SERVICE_TOKEN_PREFIX = 'blueprint:service:';

/** The service name of a contract token (`Symbol.for('blueprint:service:<name>')`), or undefined. */
export function serviceOfToken(token: unknown): string | undefined {
  if (typeof token !== 'symbol') return undefined;
  const key = Symbol.keyFor(token);
  return key?.startsWith(SERVICE_TOKEN_PREFIX) ? key.slice(SERVICE_TOKEN_PREFIX.length) : undefined;
}

/** The tokens a class's constructor asks for: `@inject` tokens, else decorator-metadata types. */
export function constructorTokens(cls: Function): unknown[] {
  const injected = Reflect.getOwnMetadata('injectionTokens', cls) as Record<number, unknown> | undefined;
  const types = (Reflect.getMetadata('design:paramtypes', cls) as unknown[] | undefined) ?? [];
  const count = Math.max(cls.length, types.length, ...Object.keys(injected ?? {}).map((i) => Number(i) + 1));
  const tokens: unknown[] = [];
  for (let index = 0; index < count; index++) {
    let token = injected?.[index] ?? types[index];
    // @injectAll / @injectWithTransform store `{ token, ... }`.
    if (typeof token === 'object' && token !== null && 'token' in token) token = token.token;
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}

/**
 * The services whose contracts `cls` injects, directly or through class providers and plain injectable
 * classes, each with the chain of providers it went through.
 */
export function contractsReachedBy(
  cls: Function,
  providers: ReadonlyMap<unknown, Provider>,
): Map<string, readonly string[]> {
  const found = new Map<string, readonly string[]>();
  const seen = new Set<unknown>([cls]);
  const visit = (current: Function, via: readonly string[]) => {
    for (const token of constructorTokens(current)) {
      const service = serviceOfToken(token);
      if (service !== undefined) {
        if (!found.has(service)) found.set(service, via);
        continue;
      }
      if (seen.has(token)) continue;
      seen.add(token);
      const provider = providers.get(token);
      const next =
        provider !== undefined && 'useClass' in provider
          ? provider.useClass
          : provider === undefined && typeof token === 'function'
            ? token
            : undefined;
      if (next !== undefined) visit(next, [...via, next.name || tokenName(token)]);
    }
  };
  visit(cls, []);
  return found;
}

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name || '(anonymous class)';
  if (typeof token === 'symbol') return token.description ?? token.toString();
  return String(token);
}
