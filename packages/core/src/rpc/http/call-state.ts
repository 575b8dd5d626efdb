/**
 * The context of a call the `http` server runs: the caller's deadline and propagated headers, and an
 * abort signal that fires when the caller goes away or its deadline passes.
 */
import type { CallContext } from '../../contract.js';
import { TimeoutError } from '../../errors.js';

/** A served call's {@link CallContext}. The signal is created on first use: most handlers never read it. */
export class CallState implements CallContext {
  readonly deadline: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly caller: string | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(deadline: number | undefined, headers: Record<string, string>, caller?: string) {
    this.deadline = deadline;
    this.headers = headers;
    this.caller = caller;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.finished) this.controller.abort(new TimeoutError('the call already ended'));
      else if (this.deadline !== undefined) {
        const remaining = this.deadline - Date.now();
        this.timer = setTimeout(
          () => this.abort(new TimeoutError(`the caller's deadline passed`)),
          Math.max(0, remaining),
        );
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }

  /** Aborts the call's signal with `reason`. */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** Marks the call as ended and clears its deadline timer. */
  end(): void {
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
