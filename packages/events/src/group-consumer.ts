/**
 * The delivery rules, applied the same way on every transport: check the envelope, the version and the
 * payload (a payload refused because another version of its schema published it is `CONTRACT_MISMATCH`),
 * run the handler, then ack, retry after a backoff, or dead-letter.
 */
import { isBlueprintError, requestContext, runWithRequestContext } from '@blueprint/core';
import { type BackoffFunction, type MessageSigner, parseOrThrow } from '@blueprint/core/plugin';
import { jsonCodec } from '@blueprint/core/transport';
import { payloadMismatch } from './compatibility.js';
import type { AnyEvent } from './define-event.js';
import { NO_HEADERS, parsedPayload, signatureProblem } from './envelope.js';
import type { EventHandler, EventMeta } from './handler.js';
import type { HandlerInstruments } from './instruments.js';
import type { DeadLetterReason, Delivery, TransportSubscription } from './transport/event-transport.js';

/** Counters of one subscription. */
export interface SubscriptionStats {
  /** Consumer group. */
  readonly group: string;
  /** Event name. */
  readonly event: string;
  /** Events the handler completed. */
  readonly handled: number;
  /** Handler failures (each failed attempt counts). */
  readonly failed: number;
  /** Retries scheduled after a failure. */
  readonly retried: number;
  /** Events moved to the dead-letter store. */
  readonly deadLettered: number;
  /** Events skipped because the inbox says the group already completed them. */
  readonly duplicates: number;
  /** Handlers running now. */
  readonly inFlight: number;
}

/** Where a consumer reports handler failures. */
export type HandlerErrorReporter = (error: unknown, meta: EventMeta) => void;

/** Settings of one {@link GroupConsumer}. */
export interface GroupConsumerSettings {
  readonly group: string;
  readonly events: readonly AnyEvent[];
  readonly handler: EventHandler;
  readonly maxAttempts: number;
  readonly backoff: BackoffFunction;
  readonly onHandlerError: HandlerErrorReporter;
  /** Metrics, spans and log lines of this subscription; undefined for a bus without telemetry. */
  readonly instruments?: HandlerInstruments | undefined;
  /** Checks each delivery's signature before anything else (auth on); undefined: nothing is checked. */
  readonly signer?: MessageSigner | undefined;
}

/** The message, code and details of an error; details the codec cannot encode are left out (dead letters are stored encoded). */
function describe(error: unknown): { message: string; code: string | undefined; details: unknown } {
  if (!isBlueprintError(error)) {
    return {
      message: error instanceof Error ? error.message : String(error),
      code: undefined,
      details: undefined,
    };
  }
  let details = error.details;
  try {
    jsonCodec.encode(details);
  } catch {
    details = undefined;
  }
  return { message: error.message, code: error.code, details };
}

/** Applies the delivery rules for one group and one event name in one process. */
export class GroupConsumer {
  readonly group: string;
  readonly event: string;
  handled = 0;
  failed = 0;
  retried = 0;
  deadLettered = 0;
  duplicates = 0;
  inFlight = 0;
  subscription: TransportSubscription | undefined;
  private readonly single: AnyEvent | undefined;
  private readonly byVersion: ReadonlyMap<number, AnyEvent>;
  private readonly handler: EventHandler;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffFunction;
  private readonly onHandlerError: HandlerErrorReporter;
  private readonly instruments: HandlerInstruments | undefined;
  private readonly signer: MessageSigner | undefined;
  private idle: (() => void) | undefined;

  constructor(settings: GroupConsumerSettings) {
    this.group = settings.group;
    this.event = settings.events[0]!.name;
    this.single = settings.events.length === 1 ? settings.events[0] : undefined;
    this.byVersion = new Map(settings.events.map((e) => [e.version, e]));
    const handler = settings.handler;
    // Each run is a request context of its own: calls and events the handler makes carry the event's
    // correlation id and trace context without the handler passing them. An event without headers,
    // delivered outside any request, has nothing to carry: it runs as it is, so a process that only
    // moves such events never creates the context's storage (whose async hooks every promise pays).
    this.handler = (payload, meta) =>
      hasHeaders(meta.headers) || requestContext() !== undefined
        ? runWithRequestContext({ headers: meta.headers }, () => handler(payload, meta))
        : handler(payload, meta);
    this.maxAttempts = settings.maxAttempts;
    this.backoff = settings.backoff;
    this.onHandlerError = settings.onHandlerError;
    this.instruments = settings.instruments;
    this.signer = settings.signer;
  }

  /** Handles one delivery; given to the transport as its `deliver` callback. Never throws. */
  readonly deliver = (delivery: Delivery): void => {
    if (this.signer !== undefined && delivery.envelope !== undefined) {
      const problem = signatureProblem(delivery.envelope, this.signer);
      if (problem !== undefined) {
        const { name, id } = delivery.envelope;
        this.deadLetter(delivery, {
          kind: 'signature',
          message: `event "${name}" ${id} ${problem}: it was not published by a process holding the topology's auth secret, so group "${this.group}" does not handle it; it is not retried, and a replay fails the same way`,
        });
        return;
      }
    }
    if (delivery.duplicate) {
      this.duplicates++;
      delivery.ack();
      return;
    }
    const envelope = delivery.envelope;
    if (envelope === undefined) {
      this.deadLetter(delivery, { kind: 'malformed', message: delivery.malformed ?? 'undecodable entry' });
      return;
    }
    const event =
      this.single !== undefined && envelope.version === this.single.version
        ? this.single
        : this.byVersion.get(envelope.version);
    if (event === undefined) {
      const known = [...this.byVersion.keys()].join(', ');
      this.deadLetter(delivery, {
        kind: 'unknown-version',
        message: `event "${envelope.name}" ${envelope.id} has version ${envelope.version}, but group "${this.group}" handles version ${known}; it is not retried: add a handler for version ${envelope.version}, then replay it`,
      });
      return;
    }
    let payload: unknown;
    const cached = parsedPayload(envelope, event);
    if (cached !== undefined) payload = cached.value;
    else {
      try {
        payload = parseOrThrow(
          event.schema,
          envelope.payload,
          `event "${event.name}" v${event.version}`,
          'payload',
        );
      } catch (error) {
        const mismatch = payloadMismatch(envelope, event, error, this.group);
        if (mismatch !== undefined) {
          this.deadLetter(delivery, mismatch);
          return;
        }
        const { message, code, details } = describe(error);
        this.deadLetter(delivery, {
          kind: 'invalid-payload',
          message: `${message} (group "${this.group}"); it is not retried`,
          code,
          details,
        });
        return;
      }
    }
    const attempt = delivery.attempt;
    if (attempt > this.maxAttempts) {
      this.deadLetter(delivery, {
        kind: 'redelivery-limit',
        message: `event "${envelope.name}" ${envelope.id} was delivered ${attempt} times to group "${this.group}" without being settled (maxAttempts ${this.maxAttempts}); a consumer probably crashed while handling it`,
      });
      return;
    }
    const meta: EventMeta = {
      id: envelope.id,
      name: envelope.name,
      version: envelope.version,
      occurredAt: envelope.occurredAt,
      key: envelope.key,
      headers: envelope.headers,
      attempt,
      group: this.group,
    };
    this.inFlight++;
    if (this.instruments !== undefined) {
      this.deliverObserved(delivery, meta, payload, this.instruments);
      return;
    }
    let result: unknown;
    try {
      result = this.handler(payload, meta);
    } catch (error) {
      this.fail(delivery, meta, error);
      return;
    }
    if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      (result as PromiseLike<unknown>).then(
        () => this.succeed(delivery),
        (error: unknown) => this.fail(delivery, meta, error),
      );
    } else this.succeed(delivery);
  };

  /** Runs the handler inside a consumer span, timing it and logging the outcome. */
  private deliverObserved(
    delivery: Delivery,
    meta: EventMeta,
    payload: unknown,
    instruments: HandlerInstruments,
  ): void {
    const started = performance.now();
    const span = instruments.startSpan(meta);
    const failed = (error: unknown) => {
      instruments.failed(meta, started, span, error, meta.attempt >= this.maxAttempts);
      this.fail(delivery, meta, error);
    };
    let result: unknown;
    try {
      result = span.run(() => this.handler(payload, meta));
    } catch (error) {
      failed(error);
      return;
    }
    if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      (result as PromiseLike<unknown>).then(() => {
        instruments.succeeded(meta, started, span);
        this.succeed(delivery);
      }, failed);
    } else {
      instruments.succeeded(meta, started, span);
      this.succeed(delivery);
    }
  }

  /** Resolves once no handler runs, or after `timeout` ms; resolves `false` on timeout. */
  whenIdle(timeout: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idle = undefined;
        resolve(false);
      }, timeout);
      timer.unref?.();
      this.idle = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** The counters. */
  stats(): SubscriptionStats {
    return {
      group: this.group,
      event: this.event,
      handled: this.handled,
      failed: this.failed,
      retried: this.retried,
      deadLettered: this.deadLettered,
      duplicates: this.duplicates,
      inFlight: this.inFlight,
    };
  }

  private succeed(delivery: Delivery): void {
    this.handled++;
    delivery.ack();
    this.settled();
  }

  private fail(delivery: Delivery, meta: EventMeta, error: unknown): void {
    this.failed++;
    this.onHandlerError(error, meta);
    if (meta.attempt >= this.maxAttempts) {
      const { message, code, details } = describe(error);
      this.deadLetter(delivery, {
        kind: 'max-attempts',
        message: `handler of group "${this.group}" failed ${meta.attempt} time(s); last error: ${message}`,
        code,
        details,
      });
    } else {
      this.retried++;
      if (this.instruments !== undefined) this.instruments.retried++;
      delivery.retry(this.backoff(meta.attempt));
    }
    this.settled();
  }

  private deadLetter(delivery: Delivery, reason: DeadLetterReason): void {
    this.deadLettered++;
    if (this.instruments !== undefined) {
      if (reason.kind === 'max-attempts') this.instruments.deadLettered++;
      else {
        const envelope = delivery.envelope;
        this.instruments.refused(
          envelope === undefined
            ? undefined
            : { id: envelope.id, attempt: delivery.attempt, headers: envelope.headers },
          reason,
        );
      }
    }
    delivery.deadLetter(reason);
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle !== undefined) {
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }
}

/** True when `headers` has at least one header. */
function hasHeaders(headers: Readonly<Record<string, string>>): boolean {
  if (headers === NO_HEADERS) return false;
  for (const _ in headers) return true;
  return false;
}
