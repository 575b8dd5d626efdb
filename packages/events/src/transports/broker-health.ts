/** The shape of a broker transport's health check, the same for every broker. */
import type { HealthCheckResult } from '@blueprint/core';

/** Health of a transport that is not connected yet (`"not connected"`) or was closed (`"closed"`). */
export function notOpenHealth(closed: boolean): HealthCheckResult {
  return { ok: false, details: { status: closed ? 'closed' : 'not connected' } };
}

/** A round-trip time in ms, rounded to hundredths, as health details show it (`latencyMs`). */
export function roundLatency(ms: number): number {
  return Math.round(ms * 100) / 100;
}
