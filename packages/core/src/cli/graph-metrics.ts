/**
 * `blueprint graph --metrics URL...`: scrapes each process's `/metrics` and puts the measured call counts
 * on the graph's edges.
 */

import { RPC_METRICS } from '../chain/observability-link.js';
import { RemoteUnavailableError } from '../errors.js';
import type { AppGraph, CallEdge, MeasuredCalls, Traffic } from './graph-model.js';
import { type PrometheusSample, parsePrometheusText } from './prometheus-text.js';

/** One scrape of one `/metrics` URL. */
export interface Scrape {
  /** The URL scraped. */
  readonly url: string;
  /** When, in epoch ms. */
  readonly at: number;
  /** The samples. */
  readonly samples: readonly PrometheusSample[];
}

/** Fetches and parses `url`. Throws `REMOTE_UNAVAILABLE` naming the URL when it cannot. */
export async function scrape(url: string, timeoutMs = 5_000): Promise<Scrape> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
    if (response.status !== 200) {
      throw new Error(`status ${response.status}`);
    }
  } catch (error) {
    throw new RemoteUnavailableError(
      `cannot scrape ${url} (${(error as Error).message}); give the /metrics URL of a running process, e.g. http://127.0.0.1:4001/metrics`,
      { cause: error, details: { url } },
    );
  }
  try {
    return { url, at: Date.now(), samples: parsePrometheusText(text) };
  } catch (error) {
    throw new RemoteUnavailableError(
      `${url} did not answer Prometheus text (${(error as Error).message}); is it a /metrics URL?`,
      { cause: error, details: { url } },
    );
  }
}

interface Counted {
  calls: number;
  errors: number;
  perSecond: number | undefined;
}

/** Calls per (calling process, called service) in one scrape, with the average rate since start. */
function countCalls(result: Scrape): Map<string, Map<string, Counted>> {
  const start = result.samples.find((s) => s.name === 'process_start_time_seconds')?.value;
  const uptime = start === undefined ? undefined : result.at / 1000 - start;
  const out = new Map<string, Map<string, Counted>>();
  for (const sample of result.samples) {
    if (sample.name !== RPC_METRICS.clientRequests) continue;
    const { process, service, code } = sample.labels;
    if (process === undefined || service === undefined) continue;
    let byService = out.get(process);
    if (byService === undefined) {
      byService = new Map();
      out.set(process, byService);
    }
    const entry = byService.get(service) ?? { calls: 0, errors: 0, perSecond: undefined };
    entry.calls += sample.value;
    if (code !== 'OK') entry.errors += sample.value;
    byService.set(service, entry);
  }
  for (const byService of out.values()) {
    for (const entry of byService.values()) {
      entry.perSecond = uptime !== undefined && uptime > 0 ? entry.calls / uptime : undefined;
    }
  }
  return out;
}

/** Adds `source` into `target`, summing replicas of one process scraped at different URLs. */
function merge(target: Map<string, Map<string, Counted>>, source: Map<string, Map<string, Counted>>): void {
  for (const [process, byService] of source) {
    let into = target.get(process);
    if (into === undefined) {
      into = new Map();
      target.set(process, into);
    }
    for (const [service, counted] of byService) {
      const existing = into.get(service);
      if (existing === undefined) into.set(service, { ...counted });
      else {
        existing.calls += counted.calls;
        existing.errors += counted.errors;
        existing.perSecond =
          existing.perSecond === undefined || counted.perSecond === undefined
            ? undefined
            : existing.perSecond + counted.perSecond;
      }
    }
  }
}

/**
 * Puts measured calls on `graph`. With one scrape per URL the figures are totals since each process
 * started, with the average rate since then; with a second scrape `windowSeconds` later, the rate is the
 * growth over that window. Counters are per calling *process*: an edge shows its process's calls to the
 * callee, shared with the other services of that process that call it too.
 */
export function annotateGraph(
  graph: AppGraph,
  first: readonly Scrape[],
  second?: readonly Scrape[],
  windowSeconds?: number,
): AppGraph {
  const totals = new Map<string, Map<string, Counted>>();
  for (const result of second ?? first) merge(totals, countCalls(result));
  if (second !== undefined && windowSeconds !== undefined && windowSeconds > 0) {
    const before = new Map<string, Map<string, Counted>>();
    for (const result of first) merge(before, countCalls(result));
    for (const [process, byService] of totals) {
      for (const [service, counted] of byService) {
        const earlier = before.get(process)?.get(service)?.calls ?? 0;
        counted.perSecond = Math.max(0, counted.calls - earlier) / windowSeconds;
      }
    }
  }
  const rateKind: MeasuredCalls['rateKind'] =
    second !== undefined ? 'sampled' : first.length > 0 ? 'since-start' : undefined;
  const processOf = new Map(graph.services.map((s) => [s.name, s.process]));
  const measuredFor = (process: string, service: string): MeasuredCalls | undefined => {
    const counted = totals.get(process)?.get(service);
    if (counted === undefined) return undefined;
    return {
      calls: counted.calls,
      errors: counted.errors,
      perSecond: counted.perSecond,
      rateKind: counted.perSecond === undefined ? undefined : rateKind,
    };
  };

  const calls: CallEdge[] = graph.calls.map((edge) => {
    const process = processOf.get(edge.from);
    const measured = process === undefined || !edge.remote ? undefined : measuredFor(process, edge.to);
    if (measured === undefined) return edge;
    const sharedWith = graph.calls
      .filter((other) => other !== edge && other.to === edge.to && processOf.get(other.from) === process)
      .map((other) => other.from);
    return { ...edge, measured, ...(sharedWith.length > 0 ? { sharedWith } : {}) };
  });

  const traffic: Traffic[] = [];
  for (const [process, byService] of totals) {
    for (const service of byService.keys()) {
      const measured = measuredFor(process, service)!;
      traffic.push({
        process,
        to: service,
        toProcess: processOf.get(service) ?? '?',
        callers: graph.calls
          .filter((edge) => edge.to === service && processOf.get(edge.from) === process)
          .map((edge) => edge.from),
        measured,
      });
    }
  }
  traffic.sort((a, b) => b.measured.calls - a.measured.calls);
  return { ...graph, calls, traffic, measured: true };
}
