/**
 * The version of `@blueprint/core`, reported as the tracer's version. A unit test keeps it equal to
 * `package.json`.
 */
export const CORE_VERSION = '0.1.0';
