/**
 * A secret read from a topology file (the service secret, an admin token). It never shows in logs,
 * errors, `JSON.stringify`, `util.inspect` or `blueprint graph`: only {@link Secret.reveal} gives the
 * value, to the code that signs or verifies with it.
 */
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/** A secret value that does not print. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value, for signing and verifying only. */
  reveal(): string {
    return this.#value;
  }

  /** `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** `"[redacted]"` in JSON. */
  toJSON(): string {
    return REDACTED;
  }

  /** `Secret([redacted])` in `console.log` and `util.inspect`. */
  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
