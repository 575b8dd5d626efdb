/**
 * The replicas of one remote process, as a caller balances over them: least outstanding calls over two
 * random picks, and passive health checking (as Envoy's outlier detection does): a replica that fails at
 * the transport level is taken out for a cool-off that doubles with each ejection, and put back once a
 * probe of its liveness succeeds. When every replica is out, the one due back first is tried anyway.
 */
import type { HealthCheckResult } from '../../app/health.js';
import type { CallContext } from '../../contract.js';
import type { RpcClient } from '../types.js';

/** Options of a {@link ReplicaSet}. */
export interface ReplicaSetOptions {
  /** Consecutive transport failures that take a replica out. Default: 2. */
  readonly ejectAfter?: number;
  /** The first cool-off, in ms; each further ejection doubles it. Default: 1000. */
  readonly coolOff?: number;
  /** The longest cool-off, in ms. Default: 30000. */
  readonly maxCoolOff?: number;
  /** Now, epoch ms. Default: `Date.now`. */
  readonly now?: () => number;
  /** Random source in `[0, 1)`. Default: `Math.random`. */
  readonly random?: () => number;
}

/** The state of a replica, as readiness reports it. */
export type ReplicaState = 'healthy' | 'ejected' | 'probing';

/** One replica: its address, its client and what the balancer knows of it. */
export class Replica {
  /** Calls sent and not answered yet. */
  inFlight = 0;
  /** Transport failures since the last success. */
  consecutiveFailures = 0;
  /** Times it was taken out since it last stayed healthy. */
  ejections = 0;
  /** Until when it is out (epoch ms); 0 when in. */
  ejectedUntil = 0;
  /** True while a probe decides whether it comes back. */
  probing = false;

  constructor(
    /** Its address. */
    readonly url: string,
    /** Its client (its own keep-alive pool). */
    readonly client: RpcClient,
  ) {}

  /** Its state. */
  get state(): ReplicaState {
    if (this.probing) return 'probing';
    return this.ejectedUntil > 0 ? 'ejected' : 'healthy';
  }
}

const REPLICA = Symbol.for('blueprint:replica');

/** The context of a call routed to `replica`: the transport sends it there. */
export function routedTo(context: CallContext | undefined, replica: Replica): CallContext {
  return { ...context, [REPLICA]: replica } as CallContext;
}

function replicaOf(context: CallContext | undefined): Replica | undefined {
  return (context as { [REPLICA]?: Replica } | undefined)?.[REPLICA];
}

/** The replicas of one remote process: an {@link RpcClient} that sends each call to one of them. */
export class ReplicaSet implements RpcClient {
  readonly replicas: readonly Replica[];
  private readonly ejectAfter: number;
  private readonly coolOff: number;
  private readonly maxCoolOff: number;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Replicas out now (ejected or probing). */
  private ejected = 0;

  constructor(replicas: readonly { url: string; client: RpcClient }[], options: ReplicaSetOptions = {}) {
    this.replicas = replicas.map((r) => new Replica(r.url, r.client));
    this.ejectAfter = options.ejectAfter ?? 2;
    this.coolOff = options.coolOff ?? 1_000;
    this.maxCoolOff = options.maxCoolOff ?? 30_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /**
   * The replica for the next call: of two random healthy replicas (other than the excluded ones), the one
   * with fewer calls in flight. Undefined only when every replica is excluded.
   */
  pick(exclude?: Replica | ReadonlySet<Replica>): Replica | undefined {
    if (exclude === undefined && this.ejected === 0) {
      // The common case: every replica in, nothing excluded; no allocation.
      const replicas = this.replicas;
      const count = replicas.length;
      if (count === 1) return replicas[0];
      const i = Math.floor(this.random() * count);
      let j = Math.floor(this.random() * (count - 1));
      if (j >= i) j++;
      const a = replicas[i]!;
      const b = replicas[j]!;
      return b.inFlight < a.inFlight ? b : a;
    }
    const now = this.now();
    const excluded = (replica: Replica) =>
      exclude instanceof Set ? exclude.has(replica) : replica === (exclude as Replica | undefined);
    const candidates: Replica[] = [];
    for (const replica of this.replicas) {
      if (excluded(replica)) continue;
      if (replica.ejectedUntil > 0 && replica.ejectedUntil <= now && !replica.probing) this.probe(replica);
      if (replica.ejectedUntil === 0) candidates.push(replica);
    }
    if (candidates.length === 0) {
      const others = this.replicas.filter((r) => !excluded(r));
      return others.sort((a, b) => a.ejectedUntil - b.ejectedUntil)[0];
    }
    if (candidates.length === 1) return candidates[0];
    const a = candidates[Math.floor(this.random() * candidates.length)]!;
    let b = candidates[Math.floor(this.random() * (candidates.length - 1))]!;
    if (b === a) b = candidates[candidates.length - 1]!;
    return b.inFlight < a.inFlight ? b : a;
  }

  /** Records a call the replica answered (even with an error of the service). */
  succeeded(replica: Replica): void {
    replica.consecutiveFailures = 0;
    if (replica.ejectedUntil === 0) replica.ejections = 0;
  }

  /** Records a transport failure of the replica; takes it out after `ejectAfter` in a row, or at once when `definite`. */
  failed(replica: Replica, definite = false): void {
    replica.consecutiveFailures++;
    if (replica.ejectedUntil > 0) return;
    if (!definite && replica.consecutiveFailures < this.ejectAfter) return;
    replica.ejections++;
    const coolOff = Math.min(this.maxCoolOff, this.coolOff * 2 ** (replica.ejections - 1));
    replica.ejectedUntil = this.now() + coolOff;
    this.ejected++;
  }

  /** Asks an ejected replica whether it is live; a live one comes back, another waits a longer cool-off. */
  private probe(replica: Replica): void {
    replica.probing = true;
    replica.client
      .ping(1_000)
      .then(
        (result) => result.ok,
        () => false,
      )
      .then((live) => {
        replica.probing = false;
        if (live) {
          replica.ejectedUntil = 0;
          replica.consecutiveFailures = 0;
          this.ejected--;
        } else {
          replica.ejections++;
          replica.ejectedUntil =
            this.now() + Math.min(this.maxCoolOff, this.coolOff * 2 ** (replica.ejections - 1));
        }
      });
  }

  call(service: string, method: string, input: unknown, context?: CallContext): Promise<unknown> {
    const replica = replicaOf(context) ?? this.pick() ?? this.replicas[0]!;
    return replica.client.call(service, method, input, context);
  }

  /** Live when one replica is; the details list each replica with its state. */
  async ping(timeoutMs?: number): Promise<HealthCheckResult> {
    const results = await Promise.all(
      this.replicas.map(async (replica) => ({
        url: replica.url,
        state: replica.state,
        ok: (await replica.client.ping(timeoutMs).catch(() => ({ ok: false }))).ok,
      })),
    );
    return { ok: results.some((r) => r.ok), details: { replicas: results } };
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.client.close()));
  }
}
