/**
 * Metrics, spans and logs of a bus: events published and handled, retries, dead letters, handling
 * time, consumer lag, a producer span per publish and a consumer span per handled event, and one log
 * line per handled event. Counts on the hot path are plain numbers, added to the Prometheus metrics
 * when they are scraped, so a bus with metrics on stays close to one without.
 */
import { isBlueprintError, type Logger, type Telemetry } from '@blueprint/core';
import { DURATION_BUCKETS, HistogramTally, type SpanHandle } from '@blueprint/core/plugin';
import { trace } from '@opentelemetry/api';
import type { EventHeaders } from './envelope.js';
import type { EventMeta } from './handler.js';
import type { DeadLetterReason, EventTransport, GroupBinding } from './transport/event-transport.js';

/** Names of the events metrics. */
export const EVENTS_METRICS = {
  /** Counter `{event, code}` of publishes: `code` is `OK` (stored) or the error's code. */
  published: 'blueprint_events_published_total',
  /** Counter `{event, group, code}` of handler runs: `code` is `OK` or the error's code (`INTERNAL` when uncoded). */
  handled: 'blueprint_events_handled_total',
  /** Histogram `{event, group}` of handler run time, in seconds. */
  handleDuration: 'blueprint_events_handle_duration_seconds',
  /** Counter `{event, group}` of retries scheduled after a failed handler run. */
  retried: 'blueprint_events_retried_total',
  /** Counter `{event, group}` of events moved to the dead-letter store. */
  deadLettered: 'blueprint_events_dead_lettered_total',
  /**
   * Gauge `{event, group}`: the group's events not yet settled (waiting for delivery, delivered and not
   * acked, waiting for a retry), read from the transport on every scrape, for the groups subscribed in
   * this process. Absent when the transport cannot tell.
   */
  pending: 'blueprint_events_pending',
} as const;

/** The attributes of a producer (`send`) or consumer (`process`) span of `event`, in the OpenTelemetry messaging conventions. */
function messagingAttributes(
  system: string,
  event: string,
  operation: 'send' | 'process',
  group?: string,
): Readonly<Record<string, string>> {
  return {
    'messaging.system': system,
    'messaging.destination.name': event,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation === 'send' ? 'publish' : 'process',
    ...(group === undefined ? {} : { 'messaging.consumer.group.name': group }),
  };
}

const codeOf = (error: unknown): string => (isBlueprintError(error) ? error.code : 'INTERNAL');

/** Counts by code, with what was already added to the counter. */
class CodeTally {
  ok = 0;
  private flushedOk = 0;
  private readonly failures = new Map<string, { count: number; flushed: number }>();

  fail(code: string): void {
    const found = this.failures.get(code);
    if (found === undefined) this.failures.set(code, { count: 1, flushed: 0 });
    else found.count++;
  }

  flush(add: (code: string, delta: number) => void): void {
    if (this.ok > this.flushedOk) {
      add('OK', this.ok - this.flushedOk);
      this.flushedOk = this.ok;
    }
    for (const [code, entry] of this.failures) {
      if (entry.count > entry.flushed) {
        add(code, entry.count - entry.flushed);
        entry.flushed = entry.count;
      }
    }
  }
}

/** The instruments of publishing one event name. @internal */
export class PublishInstruments {
  /** Publishes by result code. */
  readonly results = new CodeTally();
  /** Span name: `<event> publish`. */
  readonly spanName: string;
  /** Attributes of the producer span. */
  readonly attributes: Readonly<Record<string, string>>;

  constructor(
    readonly event: string,
    system: string,
    private readonly telemetry: Telemetry,
  ) {
    this.spanName = `${event} publish`;
    this.attributes = messagingAttributes(system, event, 'send');
  }

  /**
   * A producer span for a publish with `headers`, or undefined when tracing is not active. Its parent
   * is the active span, else the `traceparent` of `headers` (an event republished from an outbox, say).
   */
  startSpan(headers: EventHeaders | undefined): SpanHandle | undefined {
    if (!this.telemetry.tracingActive()) return undefined;
    const parentHeaders =
      headers?.traceparent !== undefined && trace.getActiveSpan() === undefined ? headers : undefined;
    return this.telemetry.startSpan(this.spanName, {
      kind: 'producer',
      attributes: this.attributes,
      parentHeaders,
    });
  }

  /** Counts a publish that failed. */
  failed(error: unknown): void {
    this.results.fail(codeOf(error));
  }
}

/** The instruments of one subscription: one group handling one event name. @internal */
export class HandlerInstruments {
  /** Handler runs by result code. */
  readonly results = new CodeTally();
  /** Retries scheduled. */
  retried = 0;
  /** Events dead-lettered. */
  deadLettered = 0;
  /** Handler run time. */
  readonly duration = new HistogramTally(DURATION_BUCKETS);
  /** What the counters already got of `retried` and `deadLettered`. */
  readonly flushed = { retried: 0, deadLettered: 0 };
  private readonly spanName: string;
  private readonly attributes: Readonly<Record<string, string>>;

  constructor(
    readonly event: string,
    readonly group: string,
    system: string,
    private readonly telemetry: Telemetry,
    private readonly logger: Logger,
  ) {
    this.spanName = `${event} process`;
    this.attributes = messagingAttributes(system, event, 'process', group);
  }

  /** A consumer span for handling `meta`'s event, a child of the span in its headers' `traceparent`. */
  startSpan(meta: EventMeta): SpanHandle {
    const span = this.telemetry.startSpan(this.spanName, {
      kind: 'consumer',
      attributes: this.attributes,
      parentHeaders: meta.headers,
    });
    if (span.recording) {
      span.setAttribute('messaging.message.id', meta.id);
      span.setAttribute('messaging.message.delivery_count', meta.attempt);
    }
    return span;
  }

  /** Records a handler run that succeeded. */
  succeeded(meta: EventMeta, started: number, span: SpanHandle): void {
    const seconds = (performance.now() - started) / 1000;
    this.results.ok++;
    this.duration.observe(seconds);
    span.end();
    if (this.logger.isLevelEnabled('info'))
      this.logger.info(this.fields(meta, seconds, 'OK', span), 'event handled');
  }

  /** Records a handler run that failed; `final` when the event is dead-lettered rather than retried. */
  failed(meta: EventMeta, started: number, span: SpanHandle, error: unknown, final: boolean): void {
    const seconds = (performance.now() - started) / 1000;
    const code = codeOf(error);
    this.results.fail(code);
    this.duration.observe(seconds);
    span.end(error);
    const level = final ? 'error' : 'warn';
    if (!this.logger.isLevelEnabled(level)) return;
    const fields = this.fields(meta, seconds, code, span);
    fields.outcome = final ? 'dead-lettered' : 'retry';
    fields.err = error;
    this.logger[level](fields, 'event handled');
  }

  /** Records an event dead-lettered before its handler ran (malformed, unknown version, invalid payload...). */
  refused(meta: Pick<EventMeta, 'id' | 'attempt' | 'headers'> | undefined, reason: DeadLetterReason): void {
    this.deadLettered++;
    if (!this.logger.isLevelEnabled('error')) return;
    this.logger.error(
      {
        event: this.event,
        group: this.group,
        eventId: meta?.id,
        attempt: meta?.attempt,
        correlationId: meta?.headers['x-correlation-id'],
        reason: reason.kind,
        code: reason.code,
        err: { code: reason.code, message: reason.message },
      },
      'event dead-lettered',
    );
  }

  private fields(meta: EventMeta, seconds: number, code: string, span: SpanHandle): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      event: this.event,
      group: this.group,
      eventId: meta.id,
      attempt: meta.attempt,
      correlationId: meta.headers['x-correlation-id'],
      durationMs: Math.round(seconds * 100_000) / 100,
      code,
    };
    if (span.traceId !== undefined) fields.traceId = span.traceId;
    return fields;
  }
}

/** A source of the pending gauge: a transport and the groups subscribed on it. */
interface PendingSource {
  readonly transport: EventTransport;
  readonly bindings: () => readonly GroupBinding[];
}

/**
 * The instruments of the buses of one process (one per telemetry): tallies by event and group, and the
 * metrics that read them on scrape. @internal
 */
export class EventsInstruments {
  /** True when spans may be made (tracing enabled in the topology). */
  readonly tracing: boolean;
  private readonly publishing = new Map<string, PublishInstruments>();
  private readonly handlers: HandlerInstruments[] = [];
  private readonly pendingSources: PendingSource[] = [];
  private readonly logger: Logger;

  constructor(private readonly telemetry: Telemetry) {
    this.tracing = telemetry.tracingEnabled;
    this.logger = telemetry.logger.child({ component: 'events' });
    const { metrics } = telemetry;
    if (!metrics.enabled) return;
    const publishing = this.publishing;
    const handlers = this.handlers;
    const sources = this.pendingSources;
    metrics.counter({
      name: EVENTS_METRICS.published,
      help: 'Events published, by event and result code (OK when stored, else the error code).',
      labelNames: ['event', 'code'],
      collect() {
        for (const p of publishing.values())
          p.results.flush((code, delta) => this.inc({ event: p.event, code }, delta));
      },
    });
    metrics.counter({
      name: EVENTS_METRICS.handled,
      help: 'Handler runs, by event, consumer group and result code (OK or the error code).',
      labelNames: ['event', 'group', 'code'],
      collect() {
        for (const h of handlers) {
          h.results.flush((code, delta) => this.inc({ event: h.event, group: h.group, code }, delta));
        }
      },
    });
    const handlerCounts = [
      [EVENTS_METRICS.retried, 'retried', 'Retries scheduled after a failed handler run'],
      [EVENTS_METRICS.deadLettered, 'deadLettered', 'Events moved to the dead-letter store'],
    ] as const;
    for (const [name, key, what] of handlerCounts) {
      metrics.counter({
        name,
        help: `${what}, by event and consumer group.`,
        labelNames: ['event', 'group'],
        collect() {
          for (const h of handlers) {
            if (h[key] > h.flushed[key])
              this.inc({ event: h.event, group: h.group }, h[key] - h.flushed[key]);
            h.flushed[key] = h[key];
          }
        },
      });
    }
    metrics.tallyHistogram({
      name: EVENTS_METRICS.handleDuration,
      help: 'Handler run time, by event and consumer group, in seconds.',
      labelNames: ['event', 'group'],
      buckets: DURATION_BUCKETS,
      series: () => handlers.map((h) => ({ labels: { event: h.event, group: h.group }, tally: h.duration })),
    });
    metrics.gauge({
      name: EVENTS_METRICS.pending,
      help: 'Events of a consumer group not yet settled (waiting, delivered and not acked, or waiting for a retry), for the groups subscribed in this process.',
      labelNames: ['event', 'group'],
      async collect() {
        const reads = sources.flatMap(({ transport, bindings }) =>
          transport.pending === undefined
            ? []
            : bindings().map(async (binding) => ({
                binding,
                value: await transport.pending!(binding).catch(() => undefined),
              })),
        );
        const values = await Promise.all(reads);
        this.reset();
        for (const { binding, value } of values) {
          if (value !== undefined) this.set({ event: binding.event, group: binding.group }, value);
        }
      },
    });
  }

  /** The instruments of publishing `event` on `transport`. */
  publish(event: string, transport: EventTransport): PublishInstruments {
    let found = this.publishing.get(event);
    if (found === undefined) {
      found = new PublishInstruments(event, systemOf(transport), this.telemetry);
      this.publishing.set(event, found);
    }
    return found;
  }

  /** The instruments of a new subscription. */
  subscription(event: string, group: string, transport: EventTransport): HandlerInstruments {
    const found = this.handlers.find((h) => h.event === event && h.group === group);
    if (found !== undefined) return found;
    const created = new HandlerInstruments(event, group, systemOf(transport), this.telemetry, this.logger);
    this.handlers.push(created);
    return created;
  }

  /** Reads the pending events of `bindings()` from `transport` on every scrape. */
  watchPending(transport: EventTransport, bindings: () => readonly GroupBinding[]): void {
    this.pendingSources.push({ transport, bindings });
  }
}

function systemOf(transport: EventTransport): string {
  return transport.messagingSystem ?? transport.type;
}

const byTelemetry = new WeakMap<Telemetry, EventsInstruments>();

/** The instruments of the buses of `telemetry`'s process, made on first use. @internal */
export function eventsInstrumentsOf(telemetry: Telemetry): EventsInstruments {
  let found = byTelemetry.get(telemetry);
  if (found === undefined) {
    found = new EventsInstruments(telemetry);
    byTelemetry.set(telemetry, found);
  }
  return found;
}
