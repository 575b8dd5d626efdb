/**
 * The options of the bus and its handlers, as one set of zod schemas: the topology's `events` section
 * takes them beside the transport's keys (`busShape`), and `createEventBus` / `subscribe` parse the same
 * options given in code with the same schemas, so both read and fail alike.
 */
import type { Duration } from '@blueprint/core';
import {
  type BackoffFunction,
  backoffSchema,
  durationSchema,
  flagSchema,
  parseOptions,
  toBackoffFunction,
} from '@blueprint/core/plugin';
import { z } from 'zod';
import { EventsConfigError, EventsHandlerError } from './errors.js';
import type { HandlerOptions } from './handler.js';
import { atLeastOne } from './internal/schemas.js';

/** Defaults of handlers that set nothing, and of a bus without `defaults`. */
export const HANDLER_DEFAULTS = { concurrency: 16, maxAttempts: 5, inbox: false } as const;

/** Backoff between attempts of a failing handler: 100 ms doubling up to 30 s, each delay stretched by up to 20 %. */
export const HANDLER_BACKOFF = { initial: 100, max: 30_000, factor: 2, jitter: 0.2 } as const;

/**
 * Keys of the `events` section that every transport type accepts: the defaults of handlers and how
 * the bus stops. `driverSectionSchema` adds them to each transport's schema.
 */
export const busShape = {
  /** Attempts before dead-lettering, for handlers that do not set `maxAttempts`. Default: 5. */
  maxAttempts: atLeastOne.optional(),
  /** Handlers running at once per handler and process, for handlers that do not set it. Default: 16. */
  concurrency: atLeastOne.optional(),
  /** Backoff between attempts, for handlers that do not set it. Default: `{ "initial": "100ms", "factor": 2, "max": "30s", "jitter": 0.2 }`. */
  backoff: backoffSchema.optional(),
  /** Inbox for handlers that do not set it. Default: false. */
  inbox: flagSchema.optional(),
  /** Least time the inbox keeps a completed id. Default: `"10m"`. */
  inboxRetention: durationSchema.optional(),
  /** How long stopping waits for running handlers. Default: the topology's `shutdownTimeout`. */
  drainTimeout: durationSchema.optional(),
};

const handlerOptionsSchema = z.object({
  concurrency: busShape.concurrency,
  maxAttempts: busShape.maxAttempts,
  inbox: busShape.inbox,
});

const busOptionsSchema = z.object({
  inboxRetention: durationSchema.optional().default(10 * 60_000),
  drainTimeout: durationSchema.optional().default(10_000),
});

/** What a subscription runs with, once its options and the bus defaults are merged and checked. */
export interface ResolvedHandlerOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly inbox: boolean;
  readonly backoff: BackoffFunction;
}

/**
 * Merges a handler's options over the bus defaults and checks them; throws `EVENTS_HANDLER_INVALID`
 * naming the option. Every backoff delay is at least 1 ms: a retry always waits.
 */
export function resolveHandlerOptions(
  options: HandlerOptions,
  defaults: HandlerOptions,
  subject: string,
): ResolvedHandlerOptions {
  const parsed = parseOptions(
    handlerOptionsSchema,
    {
      concurrency: options.concurrency ?? defaults.concurrency ?? HANDLER_DEFAULTS.concurrency,
      maxAttempts: options.maxAttempts ?? defaults.maxAttempts ?? HANDLER_DEFAULTS.maxAttempts,
      inbox: options.inbox ?? defaults.inbox ?? HANDLER_DEFAULTS.inbox,
    },
    { subject, error: EventsHandlerError },
  );
  const delay = toBackoffFunction(options.backoff ?? defaults.backoff, {
    defaults: HANDLER_BACKOFF,
    subject: `${subject}: backoff`,
    error: EventsHandlerError,
  });
  return {
    concurrency: parsed.concurrency!,
    maxAttempts: parsed.maxAttempts!,
    inbox: parsed.inbox!,
    backoff: (attempt) => Math.max(1, delay(attempt)),
  };
}

/** The bus-level durations of `createEventBus`, in ms; throws `EVENTS_CONFIG_INVALID` naming the option. */
export function resolveBusOptions(options: {
  readonly inboxRetention?: Duration | undefined;
  readonly drainTimeout?: Duration | undefined;
}): { inboxRetention: number; drainTimeout: number } {
  return parseOptions(
    busOptionsSchema,
    { inboxRetention: options.inboxRetention, drainTimeout: options.drainTimeout },
    { subject: 'createEventBus(options)', error: EventsConfigError },
  );
}
