import { describe, expect, it } from 'vitest';
import { thrownBy } from '../../../../test/harness/failures.js';
import { parsePrometheusText } from '../cli/prometheus-text.js';
import { hasErrorCode } from '../errors.js';
import { createMetrics } from './metrics.js';

const metricsOf = (process = 'main', enabled = true) => createMetrics({ app: 'shop', process, enabled });

describe('metrics helpers', () => {
  it('get or create a metric by name: the second call returns the same metric', () => {
    const metrics = metricsOf();
    const options = { name: 'blueprint_test_total', help: 'Test.', labelNames: ['event', 'code'] as const };
    const counter = metrics.counter(options);
    expect(metrics.counter(options)).toBe(counter);
    const gauge = metrics.gauge({ name: 'blueprint_test_pending', help: 'Pending.', labelNames: ['group'] });
    expect(metrics.gauge({ name: 'blueprint_test_pending', help: 'Pending.', labelNames: ['group'] })).toBe(
      gauge,
    );
    const histogram = metrics.histogram({ name: 'blueprint_test_seconds', help: 'Time.' });
    expect(metrics.histogram({ name: 'blueprint_test_seconds', help: 'Time.' })).toBe(histogram);
  });

  it('refuses the same name with another type or other labels, naming both', () => {
    const metrics = metricsOf();
    metrics.counter({ name: 'blueprint_x_total', help: 'X.', labelNames: ['event'] });
    const otherType = thrownBy(() =>
      metrics.gauge({ name: 'blueprint_x_total', help: 'X.', labelNames: ['event'] }),
    );
    expect(hasErrorCode(otherType, 'APP_INVALID')).toBe(true);
    expect(otherType.message).toContain(
      'metric "blueprint_x_total" already exists as a counter with labels [event]',
    );
    const otherLabels = thrownBy(() =>
      metrics.counter({ name: 'blueprint_x_total', help: 'X.', labelNames: ['event', 'group'] }),
    );
    expect(otherLabels.message).toContain('asked for a counter with labels [event, group]');
  });

  it('refuses labels that look like ids, and the reserved app and process labels', () => {
    const metrics = metricsOf();
    for (const label of ['id', 'orderId', 'user_id']) {
      const error = thrownBy(() =>
        metrics.counter({ name: `blueprint_${label}_total`, help: '.', labelNames: [label] }),
      );
      expect(hasErrorCode(error, 'APP_INVALID')).toBe(true);
      expect(error.message).toContain(`label "${label}" looks like an id`);
    }
    expect(
      thrownBy(() => metrics.counter({ name: 'blueprint_p_total', help: '.', labelNames: ['process'] }))
        .message,
    ).toContain('label "process" is reserved');
  });

  it('writes Prometheus text with app and process on every series, then the Node.js process metrics', async () => {
    const metrics = metricsOf('orders');
    const counter = metrics.counter({ name: 'blueprint_test_total', help: 'Test.', labelNames: ['code'] });
    counter.labels('OK').inc(3);
    metrics.histogram({ name: 'blueprint_test_seconds', help: 'Time.', buckets: [0.1, 1] }).observe(0.5);
    const text = await metrics.text();
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parsePrometheusText(text);
    expect(samples).toContainEqual({
      name: 'blueprint_test_total',
      labels: { code: 'OK', app: 'shop', process: 'orders' },
      value: 3,
    });
    expect(samples).toContainEqual({
      name: 'blueprint_test_seconds_bucket',
      labels: { le: '1', app: 'shop', process: 'orders' },
      value: 1,
    });
    expect(samples.some((s) => s.name === 'process_start_time_seconds')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it("runs a counter's collect on every scrape, so a hot path can tally in plain numbers", async () => {
    const metrics = metricsOf();
    let tallied = 0;
    let flushed = 0;
    metrics.counter({
      name: 'blueprint_tallied_total',
      help: 'Tallied.',
      labelNames: ['result'],
      collect() {
        this.inc({ result: 'hit' }, tallied - flushed);
        flushed = tallied;
      },
    });
    const scraped = async () =>
      parsePrometheusText(await metrics.text()).find((s) => s.name === 'blueprint_tallied_total')?.value;
    tallied += 3;
    expect(await scraped()).toBe(3);
    tallied += 2;
    expect(await scraped()).toBe(5);
  });

  it('keeps one registry per process: the same name in two processes counts separately', async () => {
    const a = metricsOf('a');
    const b = metricsOf('b');
    a.counter({ name: 'blueprint_same_total', help: '.' }).inc();
    b.counter({ name: 'blueprint_same_total', help: '.' }).inc(5);
    expect(a.registry).not.toBe(b.registry);
    const valueIn = async (m: typeof a) =>
      parsePrometheusText(await m.text()).find((s) => s.name === 'blueprint_same_total')?.value;
    expect(await valueIn(a)).toBe(1);
    expect(await valueIn(b)).toBe(5);
  });

  it('serves nothing when disabled, while the helpers still work', async () => {
    const metrics = metricsOf('off', false);
    metrics.counter({ name: 'blueprint_off_total', help: '.' }).inc();
    expect(metrics.enabled).toBe(false);
    expect(await metrics.text()).toBe('');
  });
});
