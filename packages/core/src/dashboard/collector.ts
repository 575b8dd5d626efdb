/**
 * What the dashboard shows, gathered from the admin listeners of the running processes: the graph of
 * `blueprint graph` with each edge's call rate, error rate and latency from the processes' own metrics,
 * readiness and breakers per process, the recent spans of every process joined by trace id, and the
 * sections plugins add (events with their dead letters, cache). Nothing here knows a bus or a cache: a
 * section is JSON a plugin serves, and its actions run in the process that owns it.
 */

import type { ReadinessReport } from '../app/health.js';
import type { AppDefinition } from '../app.js';
import { RPC_METRICS } from '../chain/observability-link.js';
import { buildGraph } from '../cli/graph-model.js';
import { type PrometheusSample, parsePrometheusText } from '../cli/prometheus-text.js';
import { NotFoundError, RemoteUnavailableError, ValidationError } from '../errors.js';
import { histogramQuantileMs } from '../observability/quantile.js';
import type { RecordedSpan } from '../observability/span-recorder.js';
import type { Secret } from '../topology/secret.js';
import type { Topology } from '../topology.js';

/** One running process (replica) the dashboard reads. */
export interface DashboardTarget {
  /** Process name. */
  readonly process: string;
  /** Replica index. */
  readonly replica: number;
  /** Its admin listener, e.g. `http://127.0.0.1:9464`. */
  readonly adminUrl: string;
}

/** Options of {@link createCollector}. */
export interface CollectorOptions {
  /** The app. */
  readonly app: AppDefinition;
  /** Its validated topology. */
  readonly topology: Topology;
  /** The processes running now (read on every poll: replicas come and go). */
  readonly targets: () => readonly DashboardTarget[];
  /** The admin token, sent as `authorization: Bearer` when set. */
  readonly token?: Secret | undefined;
  /** Traces kept. Default 300. */
  readonly traces?: number;
  /** How far back call rates look, in ms. Default 60,000. */
  readonly rateWindowMs?: number;
  /** How long one admin request may take, in ms. Default 2,000. */
  readonly timeoutMs?: number;
}

/** Latency and volume of the calls along one edge. */
export interface EdgeStats {
  /** Calls counted in the window (since the calling process started when there is no earlier sample). */
  readonly calls: number;
  /** Calls that ended with an error code. */
  readonly errors: number;
  /** Calls per second over the window. */
  readonly rate: number;
  /** Share of calls that failed, 0..1 (0 without calls). */
  readonly errorRate: number;
  /** Median duration in ms, from the duration histogram (undefined without calls). */
  readonly p50Ms: number | undefined;
  /** 99th percentile in ms. */
  readonly p99Ms: number | undefined;
}

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

/** Filter of {@link Collector.traces}. */
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

/** The dashboard's data. */
export interface Collector {
  /** Services, processes, calls and events, with live figures per edge and per process. */
  architecture(): Promise<unknown>;
  /** The recent traces matching `filter`, newest first. */
  traces(filter?: TraceFilter): Promise<TraceSummary[]>;
  /** The spans of one trace, by start time. Rejects with `NOT_FOUND` for a trace not kept. */
  trace(traceId: string): Promise<RecordedSpan[]>;
  /** Every process's data of the section `name` (e.g. `events`, `cache`), by process. */
  section(name: string): Promise<unknown>;
  /**
   * Runs `action` of the section `name` in the process that owns `input.group` (a dead letter's group is
   * its service), or in the first process that has the section. Coded errors of the process come back as
   * they are.
   */
  act(name: string, action: string, input: unknown): Promise<unknown>;
  /** Samples metrics and spans now (the server does it every few seconds so rates have a window). */
  sample(): Promise<void>;
}

interface Sample {
  readonly at: number;
  readonly samples: readonly PrometheusSample[];
}

interface Trace {
  readonly spans: RecordedSpan[];
  readonly ids: Set<string>;
  lastSeen: number;
}

/** A coded error answered by an admin listener, rebuilt so the dashboard answers the same code. */
class ForwardedError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code: string; message: string },
  ) {
    super(body.message);
  }
}

/** True when `error` is a coded answer of a process, forwarded as it is. */
export function isForwardedError(
  error: unknown,
): error is { status: number; body: { code: string; message: string } } {
  return error instanceof ForwardedError;
}

const key = (target: DashboardTarget) => `${target.process}#${target.replica}`;

/** Creates the dashboard's collector. */
export function createCollector(options: CollectorOptions): Collector {
  const { app, topology } = options;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const rateWindowMs = options.rateWindowMs ?? 60_000;
  const maxTraces = options.traces ?? 300;
  const headers: Record<string, string> =
    options.token === undefined ? {} : { authorization: `Bearer ${options.token.reveal()}` };
  /** Metrics samples per target within the rate window; `trimmed` once an older one was dropped. */
  const history = new Map<string, { samples: Sample[]; trimmed: boolean }>();
  const cursors = new Map<string, { pid: number | undefined; seq: number }>();
  const traces = new Map<string, Trace>();
  const graph = buildGraph(app, topology);
  const processOf = new Map(graph.services.map((s) => [s.name, s.process]));

  async function call(target: DashboardTarget, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${target.adminUrl}${path}`, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new RemoteUnavailableError(`process ${key(target)} does not answer at ${target.adminUrl}`, {
        cause: error,
      });
    }
  }

  async function json(target: DashboardTarget, path: string, init?: RequestInit): Promise<unknown> {
    const response = await call(target, path, init);
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { code?: unknown; message?: unknown } }
      | undefined;
    if (!response.ok) {
      const code = typeof body?.error?.code === 'string' ? body.error.code : 'REMOTE_UNAVAILABLE';
      const message =
        typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
      throw new ForwardedError(response.status, { code, message });
    }
    return body;
  }

  async function sampleMetrics(target: DashboardTarget): Promise<void> {
    const response = await call(target, '/metrics');
    if (!response.ok) return;
    const samples = parsePrometheusText(await response.text());
    const entry = history.get(key(target)) ?? { samples: [], trimmed: false };
    const now = Date.now();
    entry.samples.push({ at: now, samples });
    while (entry.samples.length > 1 && entry.samples[1]!.at <= now - rateWindowMs) {
      entry.samples.shift();
      entry.trimmed = true;
    }
    history.set(key(target), entry);
  }

  async function sampleSpans(target: DashboardTarget): Promise<void> {
    const cursor = cursors.get(key(target)) ?? { pid: undefined, seq: 0 };
    const body = (await json(target, `/dashboard/spans?after=${cursor.seq}`).catch(() => undefined)) as
      | { pid: number; spans: RecordedSpan[] }
      | undefined;
    if (body === undefined) return;
    if (cursor.pid !== undefined && cursor.pid !== body.pid) {
      // A restarted process counts its spans from 1 again: read it from the start next time.
      cursors.set(key(target), { pid: body.pid, seq: 0 });
      return;
    }
    cursor.pid = body.pid;
    for (const span of body.spans) {
      cursor.seq = Math.max(cursor.seq, span.seq);
      let entry = traces.get(span.traceId);
      if (entry === undefined) {
        entry = { spans: [], ids: new Set(), lastSeen: 0 };
        traces.set(span.traceId, entry);
      }
      if (entry.ids.has(span.spanId)) continue;
      entry.ids.add(span.spanId);
      entry.spans.push(span);
      entry.lastSeen = Date.now();
    }
    cursors.set(key(target), cursor);
    if (traces.size > maxTraces) {
      const oldest = [...traces.entries()].sort((a, b) => a[1].lastSeen - b[1].lastSeen);
      for (const [id] of oldest.slice(0, traces.size - maxTraces)) traces.delete(id);
    }
  }

  async function sample(): Promise<void> {
    await Promise.all(
      options
        .targets()
        .flatMap((target) => [
          sampleMetrics(target).catch(() => undefined),
          sampleSpans(target).catch(() => undefined),
        ]),
    );
  }

  /**
   * The earliest and latest samples of each target within the window. Until a sample has left the
   * window, the earliest is the process's start (`first` undefined): counts then run since it started,
   * so calls made before the first sample are not lost.
   */
  function windows(): { first: Sample | undefined; last: Sample; process: string }[] {
    const out: { first: Sample | undefined; last: Sample; process: string }[] = [];
    for (const target of options.targets()) {
      const entry = history.get(key(target));
      if (entry === undefined || entry.samples.length === 0) continue;
      const last = entry.samples.at(-1)!;
      const first = entry.trimmed && entry.samples.length > 1 ? entry.samples[0] : undefined;
      out.push({ first, last, process: target.process });
    }
    return out;
  }

  /** Edge figures for calls from `process` to `service`, summed over the process's replicas. */
  function edgeStats(fromProcess: string, service: string, remote: boolean): EdgeStats {
    const requests = remote ? RPC_METRICS.clientRequests : RPC_METRICS.localRequests;
    const duration = `${remote ? RPC_METRICS.clientDuration : RPC_METRICS.localDuration}_bucket`;
    let calls = 0;
    let errors = 0;
    let seconds = 0;
    const buckets = new Map<number, number>();
    for (const { first, last, process } of windows()) {
      if (process !== fromProcess) continue;
      const startTime = last.samples.find((s) => s.name === 'process_start_time_seconds')?.value;
      const span =
        first !== undefined
          ? (last.at - first.at) / 1000
          : startTime === undefined
            ? 0
            : last.at / 1000 - startTime;
      seconds = Math.max(seconds, span);
      const counted = (samples: readonly PrometheusSample[] | undefined) => {
        const out = { calls: 0, errors: 0, buckets: new Map<number, number>() };
        for (const s of samples ?? []) {
          if (s.labels.service !== service) continue;
          if (s.name === requests) {
            out.calls += s.value;
            if (s.labels.code !== 'OK') out.errors += s.value;
          } else if (s.name === duration) {
            const le = Number(s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : s.labels.le);
            out.buckets.set(le, (out.buckets.get(le) ?? 0) + s.value);
          }
        }
        return out;
      };
      const now = counted(last.samples);
      const before = counted(first?.samples);
      calls += Math.max(0, now.calls - before.calls);
      errors += Math.max(0, now.errors - before.errors);
      for (const [le, value] of now.buckets) {
        buckets.set(le, (buckets.get(le) ?? 0) + Math.max(0, value - (before.buckets.get(le) ?? 0)));
      }
    }
    return {
      calls,
      errors,
      rate: seconds > 0 ? calls / seconds : 0,
      errorRate: calls > 0 ? errors / calls : 0,
      p50Ms: histogramQuantileMs(buckets, 0.5),
      p99Ms: histogramQuantileMs(buckets, 0.99),
    };
  }

  async function readiness(target: DashboardTarget): Promise<ReadinessReport | undefined> {
    try {
      const response = await call(target, '/health/ready');
      return (await response.json()) as ReadinessReport;
    } catch {
      return undefined;
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

  return {
    sample,

    async architecture() {
      await sample();
      const targets = options.targets();
      const reports = await Promise.all(targets.map(async (t) => ({ t, report: await readiness(t) })));
      return {
        app: graph.app,
        source: graph.source,
        at: new Date().toISOString(),
        processes: graph.processes.map((p) => ({
          name: p.name,
          services: p.services,
          replicas: reports
            .filter(({ t }) => t.process === p.name)
            .map(({ t, report }) => ({
              replica: t.replica,
              adminUrl: t.adminUrl,
              ready: report === undefined ? undefined : report.ok,
              reachable: report !== undefined,
              checks: Object.entries(report?.checks ?? {}).map(([name, check]) => ({
                name,
                ok: check.ok,
                required: check.required,
              })),
              breakers: Object.entries(report?.checks ?? {})
                .filter(([name]) => name.startsWith('breaker:'))
                .map(([name, check]) => ({
                  name: name.slice('breaker:'.length),
                  state: (check.details as { state?: unknown } | undefined)?.state ?? 'unknown',
                })),
            })),
        })),
        services: graph.services,
        calls: graph.calls.map((edge) => ({
          ...edge,
          stats: edgeStats(processOf.get(edge.from) ?? '?', edge.to, edge.remote),
        })),
        events: graph.events,
      };
    },

    async traces(filter = {}) {
      await sample();
      const out: TraceSummary[] = [];
      for (const [traceId, entry] of traces) {
        const summary = summarize(traceId, entry);
        if (!matches(summary, filter)) continue;
        out.push(summary);
      }
      return out.sort((a, b) => b.startMs - a.startMs);
    },

    async trace(traceId) {
      await sample();
      const entry = traces.get(traceId);
      if (entry === undefined) {
        throw new NotFoundError('no such trace in the recent ones; it may have been dropped', {
          details: { traceId },
        });
      }
      return [...entry.spans].sort((a, b) => a.startMs - b.startMs);
    },

    async section(name) {
      const targets = options.targets();
      const answers = await Promise.all(
        targets.map(async (target) => {
          try {
            return { target, data: await json(target, `/dashboard/sections/${name}`) };
          } catch (error) {
            if (isForwardedError(error) && error.status === 404) return undefined;
            return { target, data: undefined, unreachable: true };
          }
        }),
      );
      return answers
        .filter((answer) => answer !== undefined)
        .map(({ target, data, ...rest }) => ({
          process: target.process,
          replica: target.replica,
          data,
          ...rest,
        }));
    },

    async act(name, action, input) {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new ValidationError('the body must be a JSON object, e.g. {"id": "payments:order.placed:..."}');
      }
      const group = (input as { id?: unknown }).id;
      const owner =
        typeof group === 'string'
          ? processOf.get(group.slice(0, Math.max(0, group.indexOf(':'))))
          : undefined;
      const targets = options.targets();
      const ordered = [
        ...targets.filter((t) => t.process === owner),
        ...targets.filter((t) => t.process !== owner),
      ];
      for (const target of ordered) {
        let names: string[];
        try {
          names = ((await json(target, '/dashboard/process')) as { sections: string[] }).sections;
        } catch {
          continue;
        }
        if (!names.includes(name)) continue;
        return json(target, `/dashboard/sections/${name}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input),
        });
      }
      throw new NotFoundError(`no running process has the dashboard section "${name}"`, {
        details: { section: name },
      });
    },
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
