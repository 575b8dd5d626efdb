/**
 * The recent spans of every process, joined by trace id: read from each admin listener after a
 * per-target cursor, kept for the most recently seen traces, summarized and filtered for the list.
 */
import { NotFoundError } from '../errors.js';
import type { RecordedSpan } from '../observability/span-recorder.js';
import { type DashboardTarget, targetKey } from './admin-client.js';

/** One trace as the list shows it. */
export interface TraceSummary {
  readonly traceId: string;
  /** The root span's name (`POST /orders`), or the earliest span's when the root is not in view. */
  readonly name: string;
  /** The HTTP route, when the root is an HTTP request. */
  readonly route: string | undefined;
  /** HTTP status of the root, when it has one. */
  readonly status: number | undefined;
  /** The first error code in the trace, if any span failed. */
  readonly errorCode: string | undefined;
  /** From the first span's start to the last span's end, in ms. */
  readonly durationMs: number;
  /** Start, epoch ms. */
  readonly startMs: number;
  /** The processes its spans ran in. */
  readonly processes: readonly string[];
  /** Number of spans. */
  readonly spans: number;
  /** The correlation id of its requests, when known. */
  readonly correlationId: string | undefined;
}

/** Filter of the trace list. */
export interface TraceFilter {
  /** Only traces whose route (or root name) contains this text. */
  readonly route?: string | undefined;
  /** `error` (a span failed or HTTP ≥ 500), `ok`, or an HTTP status like `201`. */
  readonly status?: string | undefined;
  /** Only traces lasting at least this many ms. */
  readonly minMs?: number | undefined;
  /** Only traces with this correlation id. */
  readonly correlationId?: string | undefined;
}

/** The spans one admin listener answered after a cursor, with the pid of the process. */
export interface SpanPage {
  readonly pid: number;
  readonly spans: readonly RecordedSpan[];
}

interface Trace {
  readonly spans: RecordedSpan[];
  readonly ids: Set<string>;
  lastSeen: number;
}

/** The recent traces of all processes. */
export class TraceStore {
  private readonly cursors = new Map<string, { pid: number | undefined; seq: number }>();
  private readonly traces = new Map<string, Trace>();

  /** `maxTraces`: the traces kept (the least recently seen go first). */
  constructor(private readonly maxTraces: number) {}

  /** The query of the next read of `target`'s spans: `?after=<the last span seen>`. */
  nextQuery(target: DashboardTarget): string {
    return `?after=${this.cursors.get(targetKey(target))?.seq ?? 0}`;
  }

  /** Adds the spans `target` answered after its cursor, each once. */
  add(target: DashboardTarget, page: SpanPage): void {
    const cursor = this.cursors.get(targetKey(target)) ?? { pid: undefined, seq: 0 };
    if (cursor.pid !== undefined && cursor.pid !== page.pid) {
      // A restarted process counts its spans from 1 again: read it from the start next time.
      this.cursors.set(targetKey(target), { pid: page.pid, seq: 0 });
      return;
    }
    cursor.pid = page.pid;
    for (const span of page.spans) {
      cursor.seq = Math.max(cursor.seq, span.seq);
      let entry = this.traces.get(span.traceId);
      if (entry === undefined) {
        entry = { spans: [], ids: new Set(), lastSeen: 0 };
        this.traces.set(span.traceId, entry);
      }
      if (entry.ids.has(span.spanId)) continue;
      entry.ids.add(span.spanId);
      entry.spans.push(span);
      entry.lastSeen = Date.now();
    }
    this.cursors.set(targetKey(target), cursor);
    if (this.traces.size > this.maxTraces) {
      const oldest = [...this.traces.entries()].sort((a, b) => a[1].lastSeen - b[1].lastSeen);
      for (const [id] of oldest.slice(0, this.traces.size - this.maxTraces)) this.traces.delete(id);
    }
  }

  /** The kept traces matching `filter`, newest first. */
  summaries(filter: TraceFilter): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const [traceId, entry] of this.traces) {
      const summary = summarize(traceId, entry);
      if (matches(summary, filter)) out.push(summary);
    }
    return out.sort((a, b) => b.startMs - a.startMs);
  }

  /** The spans of one trace by start time; `NOT_FOUND` for a trace not kept. */
  spans(traceId: string): RecordedSpan[] {
    const entry = this.traces.get(traceId);
    if (entry === undefined) {
      throw new NotFoundError('no such trace in the recent ones; it may have been dropped', {
        details: { traceId },
      });
    }
    return [...entry.spans].sort((a, b) => a.startMs - b.startMs);
  }
}

function summarize(traceId: string, entry: Trace): TraceSummary {
  const spans = [...entry.spans].sort((a, b) => a.startMs - b.startMs);
  const ids = new Set(spans.map((s) => s.spanId));
  const root = spans.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)) ?? spans[0]!;
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const status = root.attributes['http.response.status_code'];
  const route = root.attributes['http.route'];
  return {
    traceId,
    name: root.name,
    route: typeof route === 'string' ? route : undefined,
    status: typeof status === 'number' ? status : undefined,
    errorCode: spans.find((s) => s.status === 'error')?.errorCode,
    durationMs: end - start,
    startMs: start,
    processes: [...new Set(spans.map((s) => s.process))],
    spans: spans.length,
    correlationId: spans.find((s) => s.correlationId !== undefined)?.correlationId,
  };
}

function matches(summary: TraceSummary, filter: TraceFilter): boolean {
  if (filter.route !== undefined && filter.route !== '') {
    const text = `${summary.route ?? ''} ${summary.name}`.toLowerCase();
    if (!text.includes(filter.route.toLowerCase())) return false;
  }
  if (filter.status !== undefined && filter.status !== '') {
    const failed = summary.errorCode !== undefined || (summary.status ?? 0) >= 500;
    if (filter.status === 'error' && !failed) return false;
    if (filter.status === 'ok' && failed) return false;
    if (/^\d{3}$/.test(filter.status) && summary.status !== Number(filter.status)) return false;
  }
  if (filter.minMs !== undefined && summary.durationMs < filter.minMs) return false;
  if (filter.correlationId !== undefined && filter.correlationId !== '') {
    if (summary.correlationId !== filter.correlationId) return false;
  }
  return true;
}
