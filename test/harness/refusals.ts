/**
 * A policy that refuses a call before running it (an open breaker, a full bulkhead) answers with a coded
 * error: checked here the same way for every policy.
 */
import { expect, vi } from 'vitest';
import { type Failure, rejectionOf } from './failures.js';

/** What {@link expectRefusedUnrun} expects of the refusal. */
export interface ExpectedRefusal {
  /** The class the error is an instance of. */
  readonly errorClass: abstract new (
    ...args: never[]
  ) => Error;
  /** The package's type guard for it, which must recognise the error. */
  readonly guard: (error: unknown) => boolean;
  /** Fields the error must have, e.g. `{ code: 'CIRCUIT_OPEN', status: 503, details: { ... } }`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Calls `policy.execute` with a task and checks the call is refused without the task running, with an
 * error as `expected` describes. Resolves to the error, for further checks.
 *
 * @example
 * const error = await expectRefusedUnrun(breaker, { errorClass: BrokenCircuitError, guard: isBrokenCircuitError, fields: { code: 'CIRCUIT_OPEN' } });
 */
export async function expectRefusedUnrun(
  policy: { execute(task: () => Promise<unknown>): Promise<unknown> },
  expected: ExpectedRefusal,
): Promise<Failure> {
  const task = vi.fn(async () => 'ran');
  const error = await rejectionOf(policy.execute(task), 'expected the policy to refuse the call');
  expect(task).not.toHaveBeenCalled();
  expect(error).toBeInstanceOf(expected.errorClass);
  expect(expected.guard(error)).toBe(true);
  expect(error).toMatchObject(expected.fields);
  return error;
}
