/**
 * The edge: what every adapter does with a request once it has found the route, framework-neutral. It
 * maps the request onto the method's input and checks it, runs the call in a request context (the
 * deadline, the correlation id and trace context, an abort signal the adapter fires when the client goes
 * away), answers the output as JSON, and any error through the one error table; it observes every
 * request. Fastify, Express and Lambda differ only in how they read a request and write the answer.
 */
import {
  AbortedError,
  type AnyContract,
  type Duration,
  NotFoundError,
  runWithRequestContext,
  type Telemetry,
  TimeoutError,
} from '@blueprint/core';
import {
  DeadlineEntry,
  DeadlineQueue,
  parseByteSize,
  parseDuration,
  parseOrThrow,
} from '@blueprint/core/plugin';
import type { z } from 'zod';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { CORRELATION_HEADER, correlationIdFrom } from './correlation.js';
import { type ErrorMapping, errorAnswer } from './error-response.js';
import { HeaderInvalidError, HttpOptionsError, MalformedUrlError, MethodNotAllowedError } from './errors.js';
import { buildInput, type RequestParts } from './input.js';
import { createObserver, type HttpObserver, NO_ROUTE, type Observation } from './observe.js';
import { RouteMatcher } from './path.js';
import type { CompiledRoute, Routes } from './routes.js';

/** Where the adapters find the client of each contract: a record by service name, or a running app. */
export type ClientSource = Readonly<Record<string, object>> | { client(contract: AnyContract): unknown };

/** How long a request may run. */
export interface TimeoutOptions {
  /** The deadline of a request that asks for none. Default `"30s"`. */
  readonly default?: Duration;
  /** The longest deadline a request may ask for. Default: `default`. */
  readonly max?: Duration;
  /**
   * The request header a caller sets its own deadline with: milliseconds (`250`) or a duration
   * (`"2s"`), capped by `max`. `false`: no header is read. Default `"x-request-timeout"`.
   */
  readonly header?: string | false;
}

/** Options every adapter takes. */
export interface EdgeOptions {
  /** The clients the routes call: `{ products: app.client(Products) }`, or the running app itself. */
  readonly clients: ClientSource;
  /** Logs, metrics and spans of the requests. Default: the app's when `clients` is an app; else none. */
  readonly telemetry?: Telemetry | undefined;
  /** Statuses by error code over the errors' own, e.g. `{ TIMEOUT: 503 }`. */
  readonly errors?: ErrorMapping | undefined;
  /** The deadline of each request, or `false` for none. Default: 30 s, a caller may ask for less. */
  readonly timeout?: TimeoutOptions | false | undefined;
  /** Largest request body (bytes or `"64kb"`). Default `"1mb"`. */
  readonly bodyLimit?: number | string | undefined;
  /** Route patterns logged at `debug`. Default `['/metrics', '/health/live', '/health/ready']`. */
  readonly quietRoutes?: readonly string[] | undefined;
}

/** An answer, ready for an adapter to write. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text; undefined for no body (204). */
  readonly body: string | undefined;
}

/** A route bound to its client. */
export interface EdgeRoute extends CompiledRoute {
  readonly schema: z.ZodType;
  /** Calls the contract method with the input. */
  readonly call: (input: unknown) => Promise<unknown>;
}

/** Request headers as the adapters see them (lower-case names). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** One request going through the edge. */
export class Exchange {
  /** The running call's controller, made when its signal is first read. */
  private controller: AbortController | undefined = undefined;
  /** Why the call was aborted, once it was. */
  private reason: unknown = undefined;
  /** Fails the running call's answer; set while the call runs. */
  private settle: ((reason: unknown) => void) | undefined = undefined;

  constructor(
    readonly observation: Observation,
    readonly headers: RequestHeaders,
  ) {}

  /** The request's correlation id. */
  get correlationId(): string {
    return this.observation.correlationId;
  }

  /**
   * The abort signal of the call, made on first read (a call that never looks at it costs no
   * `AbortController`); already aborted when read after the abort.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Starts a call: `settle` fails its answer when the call is aborted. */
  running(settle: (reason: unknown) => void): void {
    this.settle = settle;
  }

  /** The call settled: nothing is left to abort. */
  done(): void {
    this.settle = undefined;
  }

  /** Aborts the running call and everything it started downstream. Default reason: the client went away. */
  abort(reason?: unknown): void {
    const settle = this.settle;
    if (settle === undefined) return;
    this.settle = undefined;
    this.reason = reason ?? new AbortedError('the client closed the connection before the answer');
    this.controller?.abort(this.reason);
    settle(this.reason);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'] as const;
const DEFAULT_TIMEOUT_HEADER = 'x-request-timeout';

// Literal keys (CORRELATION_HEADER is 'x-correlation-id'): an object of a fixed shape, cheaper per request
// than a computed key.
function headersFor(correlationId: string): Record<string, string> {
  return {
    'content-type': JSON_TYPE,
    'x-content-type-options': 'nosniff',
    'x-correlation-id': correlationId,
  };
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

function clientFor(
  source: ClientSource,
  contract: AnyContract,
): Record<string, (input: unknown) => Promise<unknown>> {
  const app = source as { client?: unknown };
  const client =
    typeof app.client === 'function'
      ? (app.client as (c: AnyContract) => unknown)(contract)
      : (source as Record<string, unknown>)[contract.name];
  if (typeof client !== 'object' || client === null) {
    throw new HttpOptionsError(
      `clients has no client for the routes of "${contract.name}": pass { ${contract.name}: app.client(<its contract>) }, or the app`,
    );
  }
  return client as Record<string, (input: unknown) => Promise<unknown>>;
}

function bindRoute(route: CompiledRoute, source: ClientSource): EdgeRoute {
  const client = clientFor(source, route.contract);
  const method = route.method;
  if (typeof client[method] !== 'function') {
    throw new HttpOptionsError(`the client of "${route.contract.name}" has no method "${method}"`);
  }
  const schema = route.contract.methods[method]!.input;
  return { ...route, schema, call: (input) => client[method]!(input) };
}

/** The deadline of a running call: aborts its exchange with `TIMEOUT` when it passes. */
class CallDeadline extends DeadlineEntry {
  constructor(
    private readonly exchange: Exchange,
    private readonly subject: string,
    private readonly ms: number,
    deadline: number,
  ) {
    super();
    this.deadline = deadline;
  }

  expire(): void {
    const ms = this.ms;
    this.exchange.abort(
      new TimeoutError(`${this.subject} timed out after ${ms} ms`, { details: { timeoutMs: ms } }),
    );
  }
}

/**
 * Runs `call` until it settles, the deadline passes or the exchange is aborted, whichever is first, and
 * resolves with `answer(value)`, or `fail(error)` for a failure (or when `answer` throws); never rejects.
 * The deadlines of an edge's calls share one timer (`deadlines`): a call that ends in time arms none.
 */
function answerWithin(
  deadlines: DeadlineQueue,
  exchange: Exchange,
  deadline: number | undefined,
  subject: string,
  call: () => Promise<unknown>,
  answer: (value: unknown) => Answer,
  fail: (error: unknown) => Answer,
): Promise<Answer> {
  return new Promise((resolve) => {
    const timer =
      deadline === undefined
        ? undefined
        : new CallDeadline(exchange, subject, Math.max(0, deadline - Date.now()), deadline);
    if (timer !== undefined) deadlines.add(timer);
    let settled = false;
    // The first of the call's end, its deadline and the client leaving answers; what comes after is dropped.
    const settle = (error: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) deadlines.remove(timer);
      exchange.done();
      if (error !== NO_ERROR) resolve(fail(error));
      else {
        try {
          resolve(answer(value));
        } catch (failure) {
          resolve(fail(failure));
        }
      }
    };
    exchange.running(settle);
    let pending: Promise<unknown>;
    try {
      pending = call();
    } catch (error) {
      settle(error);
      return;
    }
    pending.then(
      (value) => settle(NO_ERROR, value),
      (error: unknown) => settle(error),
    );
  });
}

/** What {@link answerWithin}'s `settle` is given for a call that did not fail. */
const NO_ERROR = Symbol('no error');

/** The edge of a route table: adapters call `begin`, then `run` or `fail`, then `end`. */
export interface Edge {
  /** The bound routes. */
  readonly routes: readonly EdgeRoute[];
  /** Finds a route by method and path (Lambda routes with it; every adapter answers 405s with it). */
  readonly matcher: RouteMatcher<EdgeRoute>;
  /** The default body limit, in bytes. */
  readonly bodyLimit: number;
  /** Starts a request: its correlation id, its observation. */
  begin(method: string, route: string, path: string, headers: RequestHeaders): Exchange;
  /** Runs a route for a request; never throws (an error is an error answer). `cap`: a deadline not to pass. */
  run(exchange: Exchange, route: EdgeRoute, parts: RequestParts, cap?: number): Promise<Answer>;
  /** The answer for an error (a refused body, an unknown route, a failed call), recorded for the log line. */
  fail(exchange: Exchange, error: unknown): Answer;
  /** The 404 or 405 for a request no route took. */
  unmatched(exchange: Exchange, method: string, path: string): Answer;
  /** Headers for an answer the adapter writes itself (a user route). */
  headers(exchange: Exchange): Record<string, string>;
  /** Ends the request's observation with the status it was answered. */
  end(exchange: Exchange, status: number): void;
}

function sizeOption(name: string, value: number | string): number {
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    throw new HttpOptionsError(
      `${name} must be a size in bytes or like "64kb", "1mb"; got ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}

function durationOption(name: string, value: Duration): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new HttpOptionsError(
      `${name} must be a positive duration like 250, "500ms", "30s"; got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function timeoutsOf(options: EdgeOptions['timeout']): {
  fallback: number | undefined;
  max: number | undefined;
  header: string | undefined;
} {
  if (options === false) return { fallback: undefined, max: undefined, header: undefined };
  const fallback = durationOption('timeout.default', options?.default ?? '30s');
  const max = options?.max === undefined ? fallback : durationOption('timeout.max', options.max);
  const header =
    options?.header === false ? undefined : (options?.header ?? DEFAULT_TIMEOUT_HEADER).toLowerCase();
  return { fallback, max, header };
}

/** Builds the edge of `routes` with `options` (what the adapters do first). */
export function createEdge(routes: Routes, options: EdgeOptions): Edge {
  const bound = routes.routes.map((route) => bindRoute(route, options.clients));
  const matcher = new RouteMatcher(
    bound.map((r) => ({ method: r.httpMethod, pattern: r.pattern, entry: r })),
  );
  const telemetry = options.telemetry ?? (options.clients as { telemetry?: Telemetry }).telemetry;
  const observer: HttpObserver = createObserver(telemetry, options.quietRoutes);
  const mapping = options.errors ?? {};
  const timeouts = timeoutsOf(options.timeout);
  const deadlines = new DeadlineQueue();

  const deadlineOf = (headers: RequestHeaders, cap: number | undefined): number | undefined => {
    let ms = timeouts.fallback;
    const asked = timeouts.header === undefined ? undefined : headers[timeouts.header];
    if (asked !== undefined) {
      const parsed = typeof asked === 'string' ? safeDuration(asked) : undefined;
      if (parsed === undefined || parsed <= 0) {
        throw new HeaderInvalidError(
          `header ${timeouts.header} must be a positive duration (milliseconds, or "250ms", "2s"), got "${String(asked).slice(0, 40)}"`,
          { details: { header: timeouts.header } },
        );
      }
      ms = timeouts.max === undefined ? parsed : Math.min(parsed, timeouts.max);
    }
    const deadline = ms === undefined ? undefined : Date.now() + ms;
    return cap === undefined ? deadline : deadline === undefined ? cap : Math.min(deadline, cap);
  };

  const propagated = (exchange: Exchange): Record<string, string> => {
    const out: Record<string, string> = { 'x-correlation-id': exchange.correlationId };
    const span = exchange.observation.span;
    if (span.recording) return span.inject(out);
    for (const name of TRACE_HEADERS) {
      const value = exchange.headers[name];
      if (typeof value === 'string') out[name] = value;
    }
    return out;
  };

  const edge: Edge = {
    routes: bound,
    matcher,
    bodyLimit:
      options.bodyLimit === undefined ? DEFAULT_BODY_LIMIT : sizeOption('bodyLimit', options.bodyLimit),
    begin(method, route, path, headers) {
      const correlationId = correlationIdFrom(headers[CORRELATION_HEADER]);
      return new Exchange(observer.begin(method, route, path, correlationId, headers), headers);
    },
    run(exchange, route, parts, cap) {
      let input: unknown;
      let deadline: number | undefined;
      try {
        input = buildInput(route.input, route.withBody, parts);
        parseOrThrow(route.schema, input, route.subject, 'input');
        deadline = deadlineOf(exchange.headers, cap);
      } catch (error) {
        return Promise.resolve(edge.fail(exchange, error));
      }
      const context = {
        deadline,
        headers: propagated(exchange),
        get signal() {
          return exchange.signal;
        },
      };
      const { span } = exchange.observation;
      return answerWithin(
        deadlines,
        exchange,
        deadline,
        route.subject,
        () => runWithRequestContext(context, () => span.run(() => route.call(input))),
        (result) => ({
          status: route.options.status ?? (result === undefined ? 204 : 200),
          headers: headersFor(exchange.correlationId),
          body: result === undefined ? undefined : stringify(result),
        }),
        (error) => edge.fail(exchange, error),
      );
    },
    fail(exchange, error) {
      const answer = errorAnswer(error, mapping, exchange.correlationId);
      exchange.observation.failure = { error, code: answer.body.error.code };
      const headers = headersFor(exchange.correlationId);
      return {
        status: answer.status,
        headers: { ...headers, ...answer.headers },
        body: stringify(answer.body),
      };
    },
    unmatched(exchange, method, path) {
      const found = matcher.match(method, path);
      if (found.kind === 'method') {
        const error = new MethodNotAllowedError(
          `${method} is not allowed on ${path}; use ${found.allow.join(', ')}`,
          {
            details: { allow: found.allow },
          },
        );
        return edge.fail(exchange, error);
      }
      if (found.kind === 'malformed') {
        return edge.fail(
          exchange,
          new MalformedUrlError(`the path ${path.slice(0, 200)} is not valid percent-encoding`),
        );
      }
      return edge.fail(exchange, new NotFoundError(`no route ${method} ${path}`));
    },
    headers: (exchange) => headersFor(exchange.correlationId),
    end: (exchange, status) => observer.end(exchange.observation, status),
  };
  return edge;
}

function safeDuration(value: string): number | undefined {
  return value.length > 20 ? undefined : parseDuration(value);
}

export { NO_ROUTE };
