/**
 * What the dashboard shows, gathered from the admin listeners of the running processes: the graph of
 * `blueprint graph` with each edge's call rate, error rate and latency from the processes' own metrics,
 * readiness and breakers per process, the recent spans of every process joined by trace id, and the
 * sections plugins add (events with their dead letters, cache). Nothing here knows a bus or a cache: a
 * section is JSON a plugin serves, and its actions run in the process that owns it.
 */

import type { ReadinessReport } from '../app/health.js';
import type { AppDefinition } from '../app.js';
import { buildGraph } from '../cli/graph-model.js';
import { parsePrometheusText } from '../cli/prometheus-text.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { RecordedSpan } from '../observability/span-recorder.js';
import type { Secret } from '../topology/secret.js';
import type { Topology } from '../topology.js';
import { AdminClient, type DashboardTarget, isForwardedError } from './admin-client.js';
import { MetricsHistory } from './metrics-history.js';
import { type SpanPage, type TraceFilter, TraceStore, type TraceSummary } from './trace-store.js';

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

/** Creates the dashboard's collector. */
export function createCollector(options: CollectorOptions): Collector {
  const admin = new AdminClient(options.token, options.timeoutMs ?? 2_000);
  const metrics = new MetricsHistory(options.rateWindowMs ?? 60_000);
  const traces = new TraceStore(options.traces ?? 300);
  const graph = buildGraph(options.app, options.topology);
  const processOf = new Map(graph.services.map((s) => [s.name, s.process]));

  /** Reads every target's metrics and new spans; a target that does not answer is passed over. */
  async function sample(): Promise<void> {
    await Promise.all(
      options.targets().flatMap((target) => [
        admin
          .call(target, '/metrics')
          .then(async (response) => {
            if (response.ok) metrics.record(target, parsePrometheusText(await response.text()));
          })
          .catch(() => undefined),
        admin
          .json(target, `/dashboard/spans${traces.nextQuery(target)}`)
          .then((page) => {
            if (page !== undefined) traces.add(target, page as SpanPage);
          })
          .catch(() => undefined),
      ]),
    );
  }

  return {
    sample,

    async architecture() {
      await sample();
      const targets = options.targets();
      const reports = await Promise.all(
        targets.map(async (target) => ({ target, report: await admin.readiness(target) })),
      );
      return {
        app: graph.app,
        source: graph.source,
        at: new Date().toISOString(),
        processes: graph.processes.map((p) => ({
          name: p.name,
          services: p.services,
          replicas: reports.filter(({ target }) => target.process === p.name).map(replicaView),
        })),
        services: graph.services,
        calls: graph.calls.map((edge) => ({
          ...edge,
          stats: metrics.edgeStats(targets, processOf.get(edge.from) ?? '?', edge.to, edge.remote),
        })),
        events: graph.events,
      };
    },

    async traces(filter = {}) {
      await sample();
      return traces.summaries(filter);
    },

    async trace(traceId) {
      await sample();
      return traces.spans(traceId);
    },

    section: (name) => readSection(admin, options.targets(), name),

    act: (name, action, input) => runAction(admin, options.targets(), processOf, name, action, input),
  };
}

/** One replica as the architecture view shows it: readiness, its checks and its breakers. */
function replicaView({ target, report }: { target: DashboardTarget; report: ReadinessReport | undefined }) {
  const checks = Object.entries(report?.checks ?? {});
  return {
    replica: target.replica,
    adminUrl: target.adminUrl,
    ready: report === undefined ? undefined : report.ok,
    reachable: report !== undefined,
    checks: checks.map(([name, check]) => ({ name, ok: check.ok, required: check.required })),
    breakers: checks
      .filter(([name]) => name.startsWith('breaker:'))
      .map(([name, check]) => ({
        name: name.slice('breaker:'.length),
        state: (check.details as { state?: unknown } | undefined)?.state ?? 'unknown',
      })),
  };
}

/** Every target's data of the section `name`; a target without it is left out, one that fails is marked. */
async function readSection(
  admin: AdminClient,
  targets: readonly DashboardTarget[],
  name: string,
): Promise<unknown> {
  const answers = await Promise.all(
    targets.map(async (target) => {
      try {
        return { target, data: await admin.json(target, `/dashboard/sections/${name}`) };
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
}

/** See {@link Collector.act}. */
async function runAction(
  admin: AdminClient,
  targets: readonly DashboardTarget[],
  processOf: ReadonlyMap<string, string>,
  name: string,
  action: string,
  input: unknown,
): Promise<unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('the body must be a JSON object, e.g. {"id": "payments:order.placed:..."}');
  }
  const group = (input as { id?: unknown }).id;
  const owner =
    typeof group === 'string' ? processOf.get(group.slice(0, Math.max(0, group.indexOf(':')))) : undefined;
  const ordered = [
    ...targets.filter((t) => t.process === owner),
    ...targets.filter((t) => t.process !== owner),
  ];
  for (const target of ordered) {
    let names: string[];
    try {
      names = ((await admin.json(target, '/dashboard/process')) as { sections: string[] }).sections;
    } catch {
      continue;
    }
    if (!names.includes(name)) continue;
    return admin.json(target, `/dashboard/sections/${name}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
  }
  throw new NotFoundError(`no running process has the dashboard section "${name}"`, {
    details: { section: name },
  });
}
