/**
 * Route paths: `/products/:id` patterns, their parameters, and the matching the Lambda adapter routes
 * with (Fastify and Express use their own routers; all three use {@link RouteMatcher} for 405s).
 */

/** One segment of a path pattern: a literal, or a parameter (`:id`). */
type Segment = { readonly literal: string } | { readonly param: string };

/** A parsed path pattern. */
export interface PathPattern {
  /** The pattern as written, e.g. `/products/:id`. */
  readonly path: string;
  /** Parameter names, in order. */
  readonly params: readonly string[];
  /** The pattern in OpenAPI's form, e.g. `/products/{id}`. */
  readonly openApiPath: string;
  readonly segments: readonly Segment[];
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
const LITERAL = /^[A-Za-z0-9._~-]+$/;

/**
 * Parses `/products/:id`. Returns the problem as a string when the pattern is malformed: it must start
 * with `/`, have no empty segment, literal segments of URL-safe characters, and parameters that are
 * identifiers, each once.
 */
export function parsePath(path: string): PathPattern | string {
  if (!path.startsWith('/')) return `a path starts with "/": "${path}"`;
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const segments: Segment[] = [];
  const params: string[] = [];
  for (const part of parts) {
    const param = PARAM.exec(part)?.[1];
    if (param !== undefined) {
      if (params.includes(param)) return `parameter ":${param}" appears twice in "${path}"`;
      params.push(param);
      segments.push({ param });
    } else if (LITERAL.test(part)) segments.push({ literal: part });
    else
      return `segment "${part}" of "${path}" is neither a literal (letters, digits, . _ ~ -) nor a parameter (:name)`;
  }
  const openApiPath = `/${segments.map((s) => ('param' in s ? `{${s.param}}` : s.literal)).join('/')}`;
  return { path, params, openApiPath, segments };
}

/** Splits a request path into decoded segments; undefined when a segment is not valid percent-encoding. */
function splitRequestPath(path: string): string[] | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '/' || trimmed === '') return [];
  const parts = trimmed.slice(1).split('/');
  try {
    return parts.map((p) => (p.includes('%') ? decodeURIComponent(p) : p));
  } catch {
    return undefined;
  }
}

/** Matches a request path against a pattern: the decoded parameters, or undefined. */
function matchSegments(pattern: PathPattern, parts: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== pattern.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = pattern.segments[i]!;
    const part = parts[i]!;
    if ('param' in segment) {
      if (part === '') return undefined;
      params[segment.param] = part;
    } else if (segment.literal !== part) return undefined;
  }
  return params;
}

/** What a matcher found for a method and a path. */
export type RouteMatch<T> =
  | { readonly kind: 'found'; readonly entry: T; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly allow: readonly string[] }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'none' };

/**
 * Finds the entry for a method and a path among patterns: literal segments win over parameters at the
 * same place (`/products/new` before `/products/:id`), as in Fastify and Express when declared first.
 */
export class RouteMatcher<T> {
  private readonly entries: { readonly method: string; readonly pattern: PathPattern; readonly entry: T }[];

  constructor(entries: readonly { method: string; pattern: PathPattern; entry: T }[]) {
    const literals = (p: PathPattern) => p.segments.filter((s) => 'literal' in s).length;
    this.entries = [...entries].sort((a, b) => literals(b.pattern) - literals(a.pattern));
  }

  /** The entry for `method` and `path` (a request path, without the query). */
  match(method: string, path: string): RouteMatch<T> {
    const parts = splitRequestPath(path);
    if (parts === undefined) return { kind: 'malformed' };
    const allow = new Set<string>();
    for (const candidate of this.entries) {
      const params = matchSegments(candidate.pattern, parts);
      if (params === undefined) continue;
      if (candidate.method === method || (method === 'HEAD' && candidate.method === 'GET')) {
        return { kind: 'found', entry: candidate.entry, params };
      }
      allow.add(candidate.method);
    }
    return allow.size > 0 ? { kind: 'method', allow: [...allow].sort() } : { kind: 'none' };
  }
}
