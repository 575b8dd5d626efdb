/**
 * Secrets for commands that run a topology on a laptop (`blueprint dev`) or only read it
 * (`blueprint graph`): when the `auth` section reads its secret from an environment variable that is
 * not set (or, with a `:-` default, empty), a random one stands in for the run, so no setup is needed to
 * try a split topology. It is never printed, and `blueprint start` never makes one up.
 */
import { randomBytes } from 'node:crypto';
import { wholeReference } from '../deploy/variables.js';

/**
 * The environment variables to add for the run: `{ SERVICE_SECRET: <random> }` when the topology's
 * `auth.secret` is `"${SERVICE_SECRET}"` and the variable is unset; `{}` otherwise.
 *
 * @example
 * const env = { ...process.env, ...standInSecrets(raw, process.env) };
 */
export function standInSecrets(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const auth = raw.auth;
  if (typeof auth !== 'object' || auth === null) return {};
  const name = wholeReference((auth as { secret?: unknown }).secret)?.name;
  if (name === undefined || (env[name] ?? '') !== '') return {};
  return { [name]: randomBytes(32).toString('base64url') };
}
