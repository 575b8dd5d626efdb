/**
 * The background work of a redis-streams subscription besides reading: the mover that puts due
 * retries back on the group's retry stream, and the housekeeping of the group's streams and inbox.
 */
import type { LuaScript } from '@blueprint/core/redis';
import {
  moveDueScript,
  removeStaleConsumersScript,
  TRIM_SCAN,
  trimInboxScript,
  trimScript,
} from './scripts.js';

const MAX_MOVED = 500;

type RunScript = (
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/** What the mover of one group needs. */
export interface RetryMoverOptions {
  readonly run: RunScript;
  /** The group's delayed set. */
  readonly delayedKey: string;
  /** The group's retry stream. */
  readonly retryKey: string;
  /** The longest the mover sleeps: a retry another replica scheduled is moved at most this late. */
  readonly claimInterval: number;
  readonly onError: (error: unknown) => void;
  readonly isStopped: () => boolean;
}

/** Puts due retries of one group on its retry stream, waking exactly when the next one is due. */
export class RetryMover {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;

  constructor(private readonly options: RetryMoverOptions) {}

  /** Moves what is due now, then keeps going. */
  start(): void {
    this.schedule(0);
  }

  /** A retry was scheduled `delay` ms from now: wake by then. */
  due(delay: number): void {
    if (Date.now() + delay < this.at) this.schedule(delay);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.options.isStopped()) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.at = Date.now() + delay;
    this.timer = setTimeout(() => void this.move(), delay);
    this.timer.unref();
  }

  private async move(): Promise<void> {
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
    const { run, delayedKey, retryKey, claimInterval, onError, isStopped } = this.options;
    if (isStopped()) return;
    let next = claimInterval;
    try {
      const [moved, wait] = (await run(moveDueScript, [delayedKey, retryKey], [MAX_MOVED])) as [
        number,
        number,
      ];
      next = moved >= MAX_MOVED ? 0 : wait < 0 ? claimInterval : Math.min(wait, claimInterval);
    } catch (error) {
      onError(error);
    }
    if (this.timer === undefined || Date.now() + next < this.at) this.schedule(next);
  }
}

/** What the housekeeping of one group touches. */
export interface HousekeepingTarget {
  readonly group: string;
  /** The event's stream and the group's retry stream. */
  readonly streamKeys: readonly [string, string];
  /** The event's counters hash. */
  readonly countersKey: string;
  /** The group's inbox set, when the inbox is on. */
  readonly inboxKey: string | undefined;
  readonly inboxRetention: number;
  readonly staleConsumerAfter: number;
  /** This process's consumer name, never removed. */
  readonly consumerName: string;
}

/**
 * Removes the group's consumers that went away (nothing pending, idle for `staleConsumerAfter`), trims
 * the retry stream, and forgets inbox ids older than both the retention and the oldest stored entry.
 */
export async function housekeeping(
  host: { readonly run: RunScript },
  target: HousekeepingTarget,
): Promise<void> {
  const [stream, retry] = target.streamKeys;
  for (const key of [stream, retry]) {
    await host.run(
      removeStaleConsumersScript,
      [key],
      [target.group, target.staleConsumerAfter, target.consumerName],
    );
  }
  await host.run(trimScript, [retry, target.countersKey], [0, 0, TRIM_SCAN]);
  if (target.inboxKey !== undefined) {
    await host.run(trimInboxScript, [stream, retry, target.inboxKey], [target.inboxRetention, 60_000]);
  }
}
