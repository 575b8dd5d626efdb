/**
 * The errors of `create-app`. Each has a stable `code`, and a message that names the bad value and the
 * fix; the CLI prints `create-app: <message>` and exits with the error's `exitCode`.
 */

/** The codes of {@link CreateAppError}, one per kind of failure. */
export const CREATE_APP_ERROR_CODES = [
  /** A bad command line: no directory, an unknown option, two directories. Exit code 2. */
  'CREATE_APP_USAGE',
  /** `--template` names no template. Exit code 2. */
  'CREATE_APP_UNKNOWN_TEMPLATE',
  /** The target directory exists and is not empty. */
  'CREATE_APP_TARGET_NOT_EMPTY',
  /** `BLUEPRINT_PACKAGES_DIR` is not a folder, or lacks a tarball the app needs. */
  'CREATE_APP_PACKAGES_DIR',
  /** `npm install` failed in the new app. */
  'CREATE_APP_INSTALL_FAILED',
] as const;

/** One of {@link CREATE_APP_ERROR_CODES}. */
export type CreateAppErrorCode = (typeof CREATE_APP_ERROR_CODES)[number];

/** Exit code of a bad command line, as the `blueprint` CLI uses it. */
export const USAGE_EXIT_CODE = 2;

/** A failure the CLI reports as one line, without a stack trace. */
export class CreateAppError extends Error {
  /** Stable code, e.g. `CREATE_APP_TARGET_NOT_EMPTY`. */
  readonly code: CreateAppErrorCode;
  /** What the process exits with: 2 for a bad command line, 1 otherwise. */
  readonly exitCode: number;

  constructor(code: CreateAppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CreateAppError';
    this.code = code;
    this.exitCode =
      code === 'CREATE_APP_USAGE' || code === 'CREATE_APP_UNKNOWN_TEMPLATE' ? USAGE_EXIT_CODE : 1;
  }
}

/** True for a {@link CreateAppError}, checked by its code so two installed copies agree. */
export function isCreateAppError(error: unknown): error is CreateAppError {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (CREATE_APP_ERROR_CODES as readonly string[]).includes(code);
}
