/**
 * How the CLI prints errors: coded errors as one message (which names the path and the fix), other
 * errors with their stack, since they are bugs to find.
 */
import { isBlueprintError } from '../errors.js';

/**
 * Formats an error for the terminal. A coded error prints as `[CODE] message`; its stack and causes
 * only with `verbose`. Any other error prints its stack and causes.
 */
export function formatError(error: unknown, verbose: boolean): string {
  if (isBlueprintError(error)) {
    const head = `[${error.code}] ${error.message}`;
    return verbose ? `${head}\n${stackOf(error)}${formatCauses(error)}` : head;
  }
  if (error instanceof Error) return `${error.stack ?? error.message}${formatCauses(error)}`;
  return String(error);
}

function stackOf(error: Error): string {
  const stack = error.stack ?? '';
  const firstFrame = stack.indexOf('\n    at ');
  return firstFrame === -1 ? stack : stack.slice(firstFrame + 1);
}

function formatCauses(error: Error): string {
  let out = '';
  let cause = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth += 1) {
    out += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}
