/**
 * The route table: which contract methods an app serves over public HTTP, at which method and path.
 * It lives beside the app, not in the contracts, so contracts stay transport-neutral (see the README).
 */
import type { AnyContract, ClientOf } from '@blueprint/core';
import { parseByteSize } from '@blueprint/core/plugin';
import { RoutesInvalidError } from './errors.js';
import { type InputPlan, planInput } from './input.js';
import { type PathPattern, parsePath } from './path.js';

/** The HTTP methods a route may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** An HTTP method of a route. */
export type HttpMethod = (typeof HTTP_METHODS)[number];
/** Methods whose input comes from a JSON body (with the path parameters). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** A route's method and path, written `'GET /products/:id'`. */
export type RouteSpec = `${HttpMethod} /${string}`;

/** Options of one route. */
export interface RouteOptions {
  /** Status of a successful answer. Default 200; 204 (no body) when the method resolves to `undefined`. */
  readonly status?: number;
  /** One line for the OpenAPI operation. Default: the contract method's `description`. */
  readonly summary?: string;
  /** Longer text for the OpenAPI operation. */
  readonly description?: string;
  /** OpenAPI tags. Default: the service name. */
  readonly tags?: readonly string[];
  /** The OpenAPI `operationId`. Default: `<service>.<method>`. */
  readonly operationId?: string;
  /** Marks the operation deprecated in the OpenAPI document. */
  readonly deprecated?: boolean;
  /** Largest body of this route (bytes or `"64kb"`). Default: the adapter's `bodyLimit`. */
  readonly bodyLimit?: number | string;
}

/** One route: a contract method at an HTTP method and path. */
export interface Route<C extends AnyContract = AnyContract, M extends string = string> {
  readonly contract: C;
  /** The contract method. */
  readonly method: M;
  readonly httpMethod: HttpMethod;
  /** The path pattern as written, e.g. `/products/:id`. */
  readonly path: string;
  readonly options: RouteOptions;
}

/**
 * Declares a route: `route(Products, 'get', 'GET /products/:id')`. Path parameters name fields of the
 * method's input; the rest of the input comes from the query (`GET`, `DELETE`) or the JSON body
 * (`POST`, `PUT`, `PATCH`).
 *
 * @example
 * route(Orders, 'place', 'POST /orders', { status: 201 })
 */
export function route<C extends AnyContract, const M extends keyof C['methods'] & string>(
  contract: C,
  method: M,
  spec: RouteSpec,
  options: RouteOptions = {},
): Route<C, M> {
  const space = spec.indexOf(' ');
  const httpMethod = spec.slice(0, space) as HttpMethod;
  return { contract, method, httpMethod, path: spec.slice(space + 1), options };
}

/** A route with what the adapters need, worked out once. */
export interface CompiledRoute extends Route {
  readonly pattern: PathPattern;
  readonly input: InputPlan;
  /** True for `POST`, `PUT`, `PATCH`: the input comes from the body. */
  readonly withBody: boolean;
  /** `<service>.<method>`. */
  readonly subject: string;
  /** Body limit in bytes, when the route sets its own. */
  readonly bodyLimit: number | undefined;
}

/** Options of {@link defineRoutes}: the API's description in the OpenAPI document. */
export interface RoutesInfo {
  /** The API's title. Default `"API"`. */
  readonly title?: string;
  /** The API's version. Default `"1.0.0"`. */
  readonly version?: string;
  /** A description of the API. */
  readonly description?: string;
}

/** An app's route table, checked. Hand it to an adapter (Fastify, Express, Lambda) and to `openApiDocument`. */
export interface Routes<C extends AnyContract = AnyContract> {
  readonly kind: 'blueprint:routes';
  readonly routes: readonly CompiledRoute[];
  /** The contracts the routes call, by service name. */
  readonly contracts: ReadonlyMap<string, C>;
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string | undefined;
  };
}

/** The contracts of a route list, as a union. */
type ContractsOf<R extends readonly Route[]> = R[number]['contract'];

/** The clients an adapter needs for a route table: one per contract, by service name. */
export type ClientsOf<R extends Routes> =
  R extends Routes<infer C> ? { readonly [K in C as K['name']]: ClientOf<K> } : never;

function check(route: Route, problems: string[], seen: Map<string, string>): CompiledRoute | undefined {
  const subject = `${route.contract.name}.${route.method}`;
  const where = `${route.httpMethod} ${route.path} (${subject})`;
  if (!(HTTP_METHODS as readonly string[]).includes(route.httpMethod)) {
    problems.push(`${where}: "${route.httpMethod}" is not one of ${HTTP_METHODS.join(', ')}`);
    return undefined;
  }
  const definition = route.contract.methods[route.method];
  if (definition === undefined) {
    problems.push(`${where}: ${route.contract.name} has no method "${route.method}"`);
    return undefined;
  }
  const pattern = parsePath(route.path);
  if (typeof pattern === 'string') {
    problems.push(`${where}: ${pattern}`);
    return undefined;
  }
  const key = `${route.httpMethod} ${pattern.segments.map((s) => ('param' in s ? ':' : s.literal)).join('/')}`;
  const other = seen.get(key);
  if (other !== undefined) problems.push(`${where}: the same method and path as ${other}`);
  seen.set(key, where);
  const input = planInput(definition.input);
  const withBody = BODY_METHODS.has(route.httpMethod);
  const missing = pattern.params.filter((p) => !input.fields.has(p));
  if (missing.length > 0) {
    problems.push(
      `${where}: the input of ${subject} has no field ${missing.map((m) => `"${m}"`).join(', ')} for the path parameter; rename the parameter or add the field`,
    );
  }
  if (input.kind === 'other' && !withBody) {
    problems.push(
      `${where}: a ${route.httpMethod} route needs an object input (its fields come from the query)`,
    );
  }
  const status = route.options.status;
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 299)) {
    problems.push(`${where}: status ${status} is not a success status (200..299)`);
  }
  const limit = route.options.bodyLimit;
  const bodyLimit = limit === undefined ? undefined : parseByteSize(limit);
  if (limit !== undefined && bodyLimit === undefined) {
    problems.push(`${where}: bodyLimit ${JSON.stringify(limit)} is not a size (bytes, or like "64kb")`);
  }
  return { ...route, pattern, input, withBody, subject, bodyLimit };
}

/**
 * Checks a route table once, when the app is built: every method exists, path parameters are fields of
 * the input, no method and path twice. Throws `RoutesInvalidError` (`ROUTES_INVALID`) listing every
 * problem.
 *
 * @example
 * export const routes = defineRoutes([
 *   route(Products, 'list', 'GET /products'),
 *   route(Products, 'get', 'GET /products/:id'),
 *   route(Orders, 'place', 'POST /orders', { status: 201 }),
 * ], { title: 'shop' });
 */
export function defineRoutes<const R extends readonly Route[]>(
  list: R,
  info: RoutesInfo = {},
): Routes<ContractsOf<R>> {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const routes: CompiledRoute[] = [];
  const contracts = new Map<string, ContractsOf<R>>();
  for (const entry of list) {
    const compiled = check(entry, problems, seen);
    if (compiled !== undefined) routes.push(compiled);
    const known = contracts.get(entry.contract.name);
    if (known !== undefined && known !== entry.contract) {
      problems.push(`two different contracts are named "${entry.contract.name}"`);
    }
    contracts.set(entry.contract.name, entry.contract);
  }
  if (problems.length > 0) {
    throw new RoutesInvalidError(`invalid routes:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  return {
    kind: 'blueprint:routes',
    routes,
    contracts,
    info: { title: info.title ?? 'API', version: info.version ?? '1.0.0', description: info.description },
  };
}
