/**
 * The caller's guard against contract version skew. Every answer of an RPC server names the fingerprint
 * of the contract it serves ({@link CONTRACT_HEADER}); while it equals the caller's own, nothing else
 * happens (one string comparison per answer). When a replica answers with another fingerprint, the guard
 * fetches that replica's description of the contract once, logs the difference once, and turns a call
 * that failed because of it into `CONTRACT_MISMATCH`:
 *
 * - the server has no such method (`RPC_UNKNOWN_METHOD`), or refused the input (`VALIDATION_FAILED`), and
 *   the rules of `incompatibilities` find a difference in that method;
 * - the server answered an output the caller's schema refuses, and the rules find a difference in it.
 *
 * A call that succeeds passes, whatever the versions: compatible changes keep working, and a call the
 * rules would flag but that happens to fit both versions is not failed. The guard is transport-neutral:
 * a transport's client makes one {@link ReplicaContracts} per replica and hands it the fingerprint of
 * each answer (`http`: the header of every answer; `tcp`: a CONTRACTS frame once per connection).
 */
import { z } from 'zod';
import type { AnyContract } from '../contract.js';
import { type BlueprintError, ContractMismatchError, isBlueprintError } from '../errors.js';
import { type ContractDescription, describeContract, incompatibilities } from './compatibility.js';

/** Response header carrying the fingerprint of the served contract (see `describeContract`). */
export const CONTRACT_HEADER = 'x-bp-contract';

/**
 * Fetches the description of `service` from one replica, authenticated like a call with `credential`
 * (undefined when calls are not authenticated). Resolves to the decoded answer, checked by the guard.
 */
export type DescribeRemote = (service: string, credential: string | undefined) => Promise<unknown>;

/** What the guard tells once per replica and server version: the two versions and how they differ. */
export interface ContractSkew {
  /** The service. */
  readonly service: string;
  /** The process the replica belongs to. */
  readonly process: string;
  /** The replica's address. */
  readonly url: string;
  /** This process's version of the contract. */
  readonly caller: ContractVersion;
  /** The replica's version; undefined when its description could not be fetched. */
  readonly server: ContractVersion | undefined;
  /** The differences that make calls fail, over every method; empty when compatible. */
  readonly differences: readonly string[];
}

/** A version of a contract, as `CONTRACT_MISMATCH` and {@link ContractSkew} name it. */
export interface ContractVersion {
  /** The contract's declared version. */
  readonly version: number;
  /** The fingerprint of its schemas. */
  readonly fingerprint: string;
}

/** Options of {@link ContractVersionGuard}. */
export interface ContractVersionGuardOptions {
  /** The contracts this process calls (its own versions). */
  readonly contracts: readonly AnyContract[];
  /** Told once per replica and server version that differs from this process's. Default: nothing. */
  readonly onSkew?: ((skew: ContractSkew) => void) | undefined;
  /** A fresh credential for a call to `process`; undefined when calls are not authenticated. */
  readonly credentialFor?: ((process: string) => string | undefined) | undefined;
  /** After a failed fetch of a description, how long until the next answer may try again, in ms. Default 5000. */
  readonly retryAfter?: number;
  /** Now, epoch ms. Default: `Date.now`. */
  readonly now?: () => number;
}

const FINGERPRINT = /^[0-9a-f]{16}$/;
/** Versions a replica's guard remembers; the oldest is forgotten past it. */
const MAX_VERSIONS_SEEN = 16;
const schemaRecord = z.record(z.string(), z.unknown());
/** A description from another process is read like any input: checked before use. */
const descriptionSchema = z.object({
  name: z.string().max(64),
  version: z.number().int().min(1),
  fingerprint: z.string().regex(FINGERPRINT),
  methods: z.record(z.string().max(128), z.object({ input: schemaRecord, output: schemaRecord })),
});

/** The guard of one calling process: its own contracts, and a {@link ReplicaContracts} per replica. */
export class ContractVersionGuard {
  private readonly contracts: ReadonlyMap<string, AnyContract>;
  private fingerprints: Map<string, string> | undefined;

  constructor(readonly options: ContractVersionGuardOptions) {
    this.contracts = new Map(options.contracts.map((contract) => [contract.name, contract]));
  }

  /** This process's fingerprint of `service`'s contract (the descriptions are made on first use). */
  fingerprintOf(service: string): string | undefined {
    this.fingerprints ??= new Map(
      [...this.contracts.values()].map((c) => [c.name, describeContract(c).fingerprint]),
    );
    return this.fingerprints.get(service);
  }

  /** The contract this process has for `service`. */
  contractOf(service: string): AnyContract | undefined {
    return this.contracts.get(service);
  }

  /** The guard of one replica of `process` at `url`, fetching descriptions with `describe`. */
  forReplica(process: string, url: string, describe: DescribeRemote): ReplicaContracts {
    return new ReplicaContracts(this, process, url, describe);
  }
}

interface Seen {
  readonly fingerprint: string;
  description?: Promise<ContractDescription | undefined>;
  /** When the fetch failed, epoch ms. */
  failedAt?: number;
}

/** What one replica serves, as far as its answers tell. */
export class ReplicaContracts {
  private readonly seen = new Map<string, Seen>();
  private readonly now: () => number;

  constructor(
    private readonly guard: ContractVersionGuard,
    /** The process the replica belongs to. */
    readonly process: string,
    /** The replica's address. */
    readonly url: string,
    private readonly describe: DescribeRemote,
  ) {
    this.now = guard.options.now ?? Date.now;
  }

  /**
   * True when an answer for `service` names a fingerprint other than this process's: the one check on
   * every answer. An answer without one (a server that does not send it), or for a service this process
   * has no contract of, is taken as it is.
   */
  differs(service: string, fingerprint: unknown): boolean {
    if (fingerprint === undefined) return false;
    const own = this.guard.fingerprintOf(service);
    return own !== undefined && fingerprint !== own;
  }

  /**
   * After an answer that {@link differs}: a successful call's raw result, returned as it is unless this
   * process's output schema refuses it because the versions are incompatible (then `CONTRACT_MISMATCH`).
   */
  async result(service: string, method: string, fingerprint: unknown, value: unknown): Promise<unknown> {
    const remote = this.remote(service, fingerprint);
    const contract = this.guard.contractOf(service);
    const schema = contract?.methods[method]?.output;
    if (remote === undefined || schema === undefined || schema.safeParse(value).success) return value;
    const mismatch = await this.mismatch(service, method, 'output', remote, undefined);
    if (mismatch !== undefined) throw mismatch;
    return value;
  }

  /**
   * After an answer that {@link differs}: a failed call's error, thrown as it is unless the server refused
   * the call for a difference between the versions (then `CONTRACT_MISMATCH`, the error as its cause).
   */
  async failure(service: string, method: string, fingerprint: unknown, error: unknown): Promise<never> {
    const remote = this.remote(service, fingerprint);
    const side = symptomOf(error);
    if (remote === undefined || side === undefined) throw error;
    throw (await this.mismatch(service, method, side, remote, error)) ?? error;
  }

  /** The replica's description for this fingerprint: fetched once (again after a failure and a pause). */
  private remote(
    service: string,
    fingerprint: unknown,
  ): Promise<ContractDescription | undefined> | undefined {
    if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) return undefined;
    if (this.guard.contractOf(service) === undefined) return undefined;
    // Keyed by fingerprint too: behind a load balancer one address may answer for several versions.
    const key = `${service} ${fingerprint}`;
    const known = this.seen.get(key);
    const retryAfter = this.guard.options.retryAfter ?? 5_000;
    if (known !== undefined && (known.failedAt === undefined || this.now() - known.failedAt < retryAfter)) {
      return known.description;
    }
    if (this.seen.size >= MAX_VERSIONS_SEEN) this.seen.delete(this.seen.keys().next().value!);
    const entry: Seen = { fingerprint };
    this.seen.set(key, entry);
    entry.description = this.fetch(service, entry);
    return entry.description;
  }

  private async fetch(service: string, entry: Seen): Promise<ContractDescription | undefined> {
    const own = describeContract(this.guard.contractOf(service)!);
    const caller = { version: own.version, fingerprint: own.fingerprint };
    let description: ContractDescription | undefined;
    try {
      const answer = await this.describe(service, this.guard.options.credentialFor?.(this.process));
      const parsed = descriptionSchema.safeParse(answer);
      if (parsed.success && parsed.data.name === service) description = parsed.data as ContractDescription;
    } catch {
      description = undefined;
    }
    const base = { service, process: this.process, url: this.url, caller };
    if (description === undefined) {
      entry.failedAt = this.now();
      this.guard.options.onSkew?.({ ...base, server: undefined, differences: [] });
      return undefined;
    }
    const server = { version: description.version, fingerprint: description.fingerprint };
    this.guard.options.onSkew?.({
      ...base,
      server,
      differences: compare(own, description) ?? [unreadable()],
    });
    return description;
  }

  private async mismatch(
    service: string,
    method: string,
    side: Side,
    remote: Promise<ContractDescription | undefined>,
    cause: unknown,
  ): Promise<BlueprintError | undefined> {
    const description = await remote;
    if (description === undefined) return undefined;
    const own = describeContract(this.guard.contractOf(service)!);
    // Only the differences that explain this failure: a call that got an answer was not refused for its input.
    const prefix = side === 'method' ? `${method}:` : `${method} ${side}`;
    const all = compare(own, description, method);
    const differences = all === undefined ? [unreadable(method)] : all.filter((d) => d.startsWith(prefix));
    if (differences.length === 0) return undefined;
    return new ContractMismatchError(
      `${service}.${method}: this process calls ${service} v${own.version} (${own.fingerprint}) but ${this.url} serves v${description.version} (${description.fingerprint}), and they are incompatible: ${differences.join('; ')}. Finish the rolling update, or deploy a version compatible with both`,
      {
        cause,
        details: {
          service,
          method,
          url: this.url,
          caller: { version: own.version, fingerprint: own.fingerprint },
          server: { version: description.version, fingerprint: description.fingerprint },
          differences,
        },
      },
    );
  }
}

/** The differences between the caller's and a server's description; undefined when they cannot be read. */
function compare(
  own: ContractDescription,
  remote: ContractDescription,
  method?: string,
): string[] | undefined {
  try {
    return incompatibilities(own, remote, method);
  } catch {
    return undefined;
  }
}

const unreadable = (method?: string) =>
  `${method ?? 'the contract'}: the server's schemas cannot be compared`;

/** Which side of a method a failure points at. */
type Side = 'method' | 'input' | 'output';

/** The side of the errors a version difference causes on the server: no such method, or input refused. */
function symptomOf(error: unknown): Side | undefined {
  if (!isBlueprintError(error)) return undefined;
  if (error.code === 'RPC_UNKNOWN_METHOD') return 'method';
  const where = (error.details as { where?: unknown } | undefined)?.where;
  return error.code === 'VALIDATION_FAILED' && where === 'input' ? 'input' : undefined;
}
