/**
 * A reader of the Prometheus text exposition format (0.0.4), enough for `blueprint graph --metrics`:
 * samples with their labels; comments, timestamps and exemplars are skipped.
 */

/** One sample: `name{labels} value`. */
export interface PrometheusSample {
  /** Metric name, with its suffix (`_total`, `_bucket`, `_count`, ...). */
  readonly name: string;
  /** Labels by name. */
  readonly labels: Readonly<Record<string, string>>;
  /** The value (`NaN`, `+Inf` and `-Inf` included). */
  readonly value: number;
}

/** A sample value; like Prometheus, `NaN` and `Inf` in any case (prom-client writes `Nan`). */
function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** Parses the labels between `{` and `}` starting at `start` (just after `{`); returns them and the end. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let index = start;
  while (index < line.length) {
    while (line[index] === ' ' || line[index] === ',') index++;
    if (line[index] === '}') return { labels, end: index + 1 };
    const equals = line.indexOf('=', index);
    if (equals === -1 || line[equals + 1] !== '"') break;
    const name = line.slice(index, equals).trim();
    let value = '';
    index = equals + 2;
    while (index < line.length && line[index] !== '"') {
      if (line[index] === '\\') {
        const next = line[index + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        index += 2;
      } else {
        value += line[index];
        index++;
      }
    }
    labels[name] = value;
    index++;
  }
  throw new SyntaxError(`malformed labels in metrics line: ${line}`);
}

/** Parses Prometheus text into samples. Throws `SyntaxError` naming a malformed line. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace !== -1 && (space === -1 || brace < space)) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace + 1);
      labels = parsed.labels;
      rest = line.slice(parsed.end).trim();
    } else {
      if (space === -1) throw new SyntaxError(`malformed metrics line: ${line}`);
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const valueText = rest.split(/\s+/)[0] ?? '';
    const value = parseValue(valueText);
    if (Number.isNaN(value) && valueText.toLowerCase() !== 'nan') {
      throw new SyntaxError(`malformed value in metrics line: ${line}`);
    }
    samples.push({ name, labels, value });
  }
  return samples;
}
