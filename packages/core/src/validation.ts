/**
 * Schema checks shared by every call path, so a local and a remote call fail with the same error.
 */
import type { z } from 'zod';
import { OutputInvalidError, ValidationError, type ValidationIssue } from './errors.js';

/** Which value of a call or event failed its schema. */
export type ValidationTarget = 'input' | 'output' | 'payload' | 'topology';

/** Converts zod issues into the JSON-safe form carried in `ValidationError.details.issues`. */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
    message: issue.message,
    code: issue.code,
  }));
}

function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * Parses `value` with `schema`, or throws a {@link ValidationError} naming the subject
 * (`products.get`), which value failed (`input`, `payload`, ...) and each issue. An output that fails is
 * the service's fault, not the caller's: it throws {@link OutputInvalidError} (500) with the same details.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  subject: string,
  target: ValidationTarget,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = toValidationIssues(result.error.issues);
  const details = { where: target, subject, issues };
  if (target === 'output') {
    throw new OutputInvalidError(
      `invalid output of ${subject}: the service answered what its contract does not allow (${describeIssues(issues)})`,
      { details },
    );
  }
  throw new ValidationError(`invalid ${target} for ${subject}: ${describeIssues(issues)}`, { details });
}
