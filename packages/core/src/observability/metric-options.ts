/** The declaration every metric shares (counters, gauges, histograms and tally histograms). */

/** What every metric is declared with. */
export interface MetricOptions<L extends string = string> {
  /** Metric name, `snake_case` with a unit suffix where one applies (`_total` for counters). */
  readonly name: string;
  /** One sentence: what is counted. */
  readonly help: string;
  /** Label names. Bounded values only (service, method, code, event, group): never ids. Default: none. */
  readonly labelNames?: readonly L[];
}
