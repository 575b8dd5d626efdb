/** The health check of a broker transport, the same shape on every broker. */
import type { HealthCheckResult } from '@blueprint/core';
import { withTimeout } from '../../internal/with-timeout.js';

/** What a broker transport tells {@link brokerHealth} about its open connection. */
export interface BrokerHealthProbe {
  /** Details every answer carries: `status` (the connection's state) and where it is connected (`server`). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Set when the client knows the broker is down (reconnecting): reported as is, without a round trip. */
  readonly down?: Readonly<Record<string, unknown>> | undefined;
  /** One round trip to the broker. */
  ping(): Promise<unknown>;
  /** `status` reported when the round trip fails. Default: `details.status`. */
  readonly unresponsive?: string;
}

/**
 * Readiness of a broker transport: `"not connected"` / `"closed"` without a connection; else one round
 * trip bounded by `timeout` ms, reported with its latency (`latencyMs`) and the number of subscriptions.
 */
export async function brokerHealth(
  probe: BrokerHealthProbe | undefined,
  closed: boolean,
  consumers: number,
  timeout: number,
): Promise<HealthCheckResult> {
  if (probe === undefined || closed) {
    return { ok: false, details: { status: closed ? 'closed' : 'not connected' } };
  }
  if (probe.down !== undefined) return { ok: false, details: { ...probe.down } };
  const started = performance.now();
  try {
    await withTimeout(probe.ping(), timeout, 'health ping');
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { ok: true, details: { ...probe.details, latencyMs, consumers } };
  } catch (error) {
    const status = probe.unresponsive ?? probe.details.status;
    return { ok: false, details: { ...probe.details, status, error: (error as Error).message } };
  }
}
