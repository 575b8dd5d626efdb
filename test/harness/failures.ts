/**
 * The error a call failed with, for tests that check more of it than one matcher does (its message in
 * parts, its code, its details). Each fails the test when the call does not fail.
 */
import { expect } from 'vitest';

/** An error as the checks read it: a message and, for a coded error, its code. */
export type Failure = Error & { code?: string };

/** What `promise` rejected with; fails the test with `expected` when it resolves. */
export function rejectionOf(promise: Promise<unknown>, expected = 'expected a rejection'): Promise<Failure> {
  return promise.then(
    () => expect.unreachable(expected),
    (error: unknown) => error as Failure,
  );
}

/** What `fn` threw; fails the test with `expected` when it returns. */
export function thrownBy(fn: () => unknown, expected = 'expected an error'): Failure {
  try {
    fn();
  } catch (error) {
    return error as Failure;
  }
  return expect.unreachable(expected);
}
