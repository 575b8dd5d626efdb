/**
 * The pull requests of one durable JetStream consumer: how many messages each open request still
 * wants, so a subscription asks only for what its free handler slots can take.
 */
import type { Subscription } from 'nats';

/** Reads the delivery count and stream sequence from a JetStream ack subject (v1 or v2 layout). */
export function parseAckReply(reply: string): { deliveries: number; seq: number } | undefined {
  const tokens = reply.split('.');
  if (tokens.length < 9 || tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined;
  const offset = tokens.length >= 11 ? 2 : 0;
  const deliveries = Number(tokens[4 + offset]);
  const seq = Number(tokens[5 + offset]);
  if (!Number.isSafeInteger(deliveries) || deliveries < 1 || !Number.isSafeInteger(seq)) return undefined;
  return { deliveries, seq };
}

/** One pull request still open on the server. */
interface Pull {
  remaining: number;
  readonly deadline: number;
}

/** One of the two durable consumers a subscription pulls from. */
export class PullSource {
  readonly inbox: string;
  readonly next: string;
  sub: Subscription | undefined;
  pulls: Pull[] = [];
  outstanding = 0;
  broken = false;

  constructor(
    readonly index: 0 | 1,
    readonly stream: string,
    readonly durable: string,
    inbox: string,
  ) {
    this.inbox = inbox;
    this.next = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`;
  }

  opened(batch: number, deadline: number): void {
    this.pulls.push({ remaining: batch, deadline });
    this.outstanding += batch;
  }

  /** One message of the oldest open request arrived. */
  received(): void {
    const pull = this.pulls[0];
    if (pull === undefined) return;
    pull.remaining--;
    this.outstanding--;
    if (pull.remaining <= 0) this.pulls.shift();
  }

  /** The server ended a request that still wanted `left` messages (unknown: `NaN`). */
  ended(left: number, newest: boolean): void {
    let index = this.pulls.findIndex((p) => p.remaining === left);
    if (index < 0) index = newest ? this.pulls.length - 1 : 0;
    const [pull] = this.pulls.splice(index, 1);
    if (pull !== undefined) this.outstanding -= pull.remaining;
  }

  expire(now: number): void {
    while (this.pulls.length > 0 && this.pulls[0]!.deadline < now)
      this.outstanding -= this.pulls.shift()!.remaining;
  }

  reset(): void {
    this.pulls = [];
    this.outstanding = 0;
  }
}
