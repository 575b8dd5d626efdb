/**
 * How `blueprint graph` prints an {@link AppGraph}: plain text, or a Mermaid flowchart with one subgraph
 * per process.
 */
import type { AppGraph, GraphProcess, MeasuredCalls } from './graph-model.js';

const count = (n: number) => Math.round(n).toLocaleString('en-US');

function rate(m: MeasuredCalls): string {
  if (m.perSecond === undefined) return '';
  const figure = m.perSecond >= 10 ? m.perSecond.toFixed(0) : m.perSecond.toFixed(2);
  return m.rateKind === 'sampled' ? `${figure}/s` : `${figure}/s avg`;
}

function describeMeasured(m: MeasuredCalls): string {
  const parts = [`${count(m.calls)} calls`];
  const perSecond = rate(m);
  if (perSecond !== '') parts.push(perSecond);
  if (m.errors > 0) parts.push(`${count(m.errors)} errors`);
  return parts.join(', ');
}

function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

/**
 * The graph as text: processes with their services, calls (local or remote, with measured calls when
 * scraped), events, and with `--metrics` the process pairs that call each other most.
 */
export function renderText(graph: AppGraph): string {
  const lines: string[] = [];
  const processCount = graph.processes.length;
  lines.push(
    `${graph.app}: ${graph.services.length} service${graph.services.length === 1 ? '' : 's'} in ${processCount} process${processCount === 1 ? '' : 'es'} (${graph.source})`,
    '',
    'processes',
    ...table(graph.processes.map((p) => [p.name, p.services.join(', ') || '(no services)', addressText(p)])),
    '',
    'calls',
  );
  if (graph.calls.length === 0) lines.push("  (none: no service injects another service's contract)");
  else {
    const processOf = new Map(graph.services.map((s) => [s.name, s.process]));
    lines.push(
      ...table(
        graph.calls.map((edge) => {
          const where = edge.remote
            ? `remote ${processOf.get(edge.from)} → ${processOf.get(edge.to)}`
            : `local in ${processOf.get(edge.from)}`;
          const via = edge.via.length > 0 ? ` via ${edge.via.join(' → ')}` : '';
          const measured = edge.measured
            ? `${describeMeasured(edge.measured)}${edge.sharedWith ? ` (process total, shared with ${edge.sharedWith.join(', ')})` : ''}`
            : '';
          return [`${edge.from} → ${edge.to}`, `${where}${via}`, measured];
        }),
      ),
    );
  }
  lines.push('', 'events');
  if (graph.events.length === 0) lines.push('  (none declared by the plugins)');
  else {
    lines.push(
      ...table(
        graph.events.map((edge) => [
          edge.event,
          `${edge.from ?? '?'} → ${edge.to}`,
          edge.from === undefined ? '' : edge.remote ? 'remote' : 'local',
        ]),
      ),
    );
  }
  if (graph.measured) {
    lines.push('', 'most calls across processes (keep the busiest pairs together)');
    if (graph.traffic.length === 0) lines.push('  (no calls between processes measured)');
    else {
      lines.push(
        ...table(
          graph.traffic.map((t, index) => [
            `${index + 1}.`,
            `${t.process} → ${t.to} (in ${t.toProcess})`,
            describeMeasured(t.measured),
            t.callers.length > 0 ? `callers: ${t.callers.join(', ')}` : 'callers: not declared',
          ]),
        ),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

/**
 * The graph as a Mermaid `flowchart LR`: one subgraph per process, solid arrows for calls (labelled with
 * measured calls), dotted arrows labelled with the event name for events.
 */
export function renderMermaid(graph: AppGraph): string {
  const lines = ['flowchart LR'];
  for (const process of graph.processes) {
    lines.push(`  subgraph ${id('process', process.name)}[${label(`process ${process.name}`)}]`);
    for (const service of process.services) lines.push(`    ${id('svc', service)}[${label(service)}]`);
    lines.push('  end');
  }
  for (const edge of graph.calls) {
    const text = edge.measured ? `|${label(describeMeasured(edge.measured))}|` : '';
    lines.push(`  ${id('svc', edge.from)} -->${text} ${id('svc', edge.to)}`);
  }
  for (const t of graph.traffic) {
    if (t.callers.length > 0) continue;
    lines.push(
      `  ${id('process', t.process)} -->|${label(describeMeasured(t.measured))}| ${id('svc', t.to)}`,
    );
  }
  const events = new Set<string>();
  for (const edge of graph.events) {
    if (edge.from === undefined) {
      const node = id('event', edge.event);
      if (!events.has(node)) {
        events.add(node);
        lines.push(`  ${node}{{${label(edge.event)}}}`);
      }
      lines.push(`  ${node} -.-> ${id('svc', edge.to)}`);
    } else {
      lines.push(`  ${id('svc', edge.from)} -.->|${label(edge.event)}| ${id('svc', edge.to)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A process's address, or its replicas' (`http://127.0.0.1:4101, :4102 (2 replicas)`). */
function addressText(process: GraphProcess): string {
  const [first, ...others] = process.addresses;
  if (first === undefined) return process.address ?? '';
  if (others.length === 0) return first;
  const host = new URL(first).hostname;
  const short = others.map((address) => {
    const url = new URL(address);
    return url.hostname === host ? `:${url.port}` : address;
  });
  return `${[first, ...short].join(', ')} (${process.addresses.length} replicas)`;
}
