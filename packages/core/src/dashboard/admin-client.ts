/**
 * Requests from the dashboard to the admin listeners of the running processes: one fetch with the
 * admin token and a timeout, coded answers forwarded as they are, and a process that does not answer
 * reported as `REMOTE_UNAVAILABLE`.
 */
import type { ReadinessReport } from '../app/health.js';
import { RemoteUnavailableError } from '../errors.js';
import type { Secret } from '../topology/secret.js';

/** One running process (replica) the dashboard reads. */
export interface DashboardTarget {
  /** Process name. */
  readonly process: string;
  /** Replica index. */
  readonly replica: number;
  /** Its admin listener, e.g. `http://127.0.0.1:9464`. */
  readonly adminUrl: string;
}

/** The key of a target in the dashboard's maps: `<process>#<replica>`. */
export const targetKey = (target: DashboardTarget): string => `${target.process}#${target.replica}`;

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

/** Reads the admin listeners of the processes. */
export class AdminClient {
  private readonly headers: Record<string, string>;

  /** `token` is sent as `authorization: Bearer`; each request gives up after `timeoutMs`. */
  constructor(
    token: Secret | undefined,
    private readonly timeoutMs: number,
  ) {
    this.headers = token === undefined ? {} : { authorization: `Bearer ${token.reveal()}` };
  }

  /** The response of `path` on the target's admin listener; `REMOTE_UNAVAILABLE` when it does not answer. */
  async call(target: DashboardTarget, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${target.adminUrl}${path}`, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new RemoteUnavailableError(`process ${targetKey(target)} does not answer at ${target.adminUrl}`, {
        cause: error,
      });
    }
  }

  /** The JSON body of `path`; an answer that is not 2xx rejects with its code, forwarded. */
  async json(target: DashboardTarget, path: string, init?: RequestInit): Promise<unknown> {
    const response = await this.call(target, path, init);
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

  /** The target's readiness report, or `undefined` when it cannot be read. */
  async readiness(target: DashboardTarget): Promise<ReadinessReport | undefined> {
    try {
      const response = await this.call(target, '/health/ready');
      return (await response.json()) as ReadinessReport;
    } catch {
      return undefined;
    }
  }
}
