/**
 * Reads `/metrics` for the observability tests: the samples of the Prometheus text format, and the
 * difference between two scrapes.
 */

/** One sample: `name{labels} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL))
      labels[name!] = value!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** Scrapes `url` (a `/metrics` endpoint). */
export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return parseSamples(await response.text());
}

/** What changed between two scrapes of one endpoint. */
export interface MetricsDelta {
  /** `after − before` of {@link sampleValue}. */
  (name: string, labels?: Record<string, string>): number;
  /** The samples of the later scrape. */
  readonly after: readonly Sample[];
}

/** Scrapes every URL and puts their samples together (the replicas of one process). */
async function scrapeAll(urls: string | readonly string[]): Promise<Sample[]> {
  const list = typeof urls === 'string' ? [urls] : urls;
  return (await Promise.all(list.map(scrape))).flat();
}

/**
 * Remembers a scrape of `url` (or of every replica's URL, summed); `since()` scrapes again and returns
 * the difference.
 */
export async function baseline(url: string | readonly string[]): Promise<{ since(): Promise<MetricsDelta> }> {
  const before = await scrapeAll(url);
  return {
    async since() {
      const after = await scrapeAll(url);
      const delta = (name: string, labels: Record<string, string> = {}) =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels);
      return Object.assign(delta, { after });
    },
  };
}
