/**
 * Authentication of calls between services, as the topology's `auth` section asks: the `auth` link
 * gives every remote call a fresh credential naming this process, and the RPC server verifies it (and
 * the called process's `callers`) before it reads the body.
 */

import type { Link } from '../chain/link.js';
import type { CallContext } from '../contract.js';
import { ForbiddenError } from '../errors.js';
import type { ServiceAuthTopology } from '../topology/security-schema.js';
import type { Topology } from '../topology.js';
import {
  type CallAuthenticator,
  CREDENTIAL_HEADER,
  type CredentialSecrets,
  credentialMinter,
  verifyCredential,
} from './credentials.js';
import { ReplayGuard } from './replay-guard.js';

export { type CallAuthenticator, type CallerIdentity, CREDENTIAL_HEADER } from './credentials.js';

function secretsOf(auth: ServiceAuthTopology): CredentialSecrets {
  return { current: auth.secret.reveal(), previous: auth.previousSecret?.reveal() };
}

/** The `auth` section when calls are authenticated, else undefined (no section, or `"none"`). */
export function serviceAuthOf(topology: Topology): ServiceAuthTopology | undefined {
  return typeof topology.auth === 'object' ? topology.auth : undefined;
}

/**
 * The `auth` link: on every remote call of process `process`, a fresh credential for the process that
 * hosts the service (`ownerOf`) goes in {@link CREDENTIAL_HEADER}. It stays out of every chain when the
 * topology does not authenticate calls.
 */
export function authLink(topology: Topology, process: string, ownerOf: (service: string) => string): Link {
  const auth = serviceAuthOf(topology);
  const secrets = auth === undefined ? undefined : secretsOf(auth);
  return {
    name: 'auth',
    stage: 'auth',
    wrap(target) {
      if (secrets === undefined || auth === undefined) return undefined;
      if (target.entry !== 'call' || target.placement !== 'remote' || target.contract === undefined)
        return undefined;
      const mint = credentialMinter(secrets, process, ownerOf(target.contract.name), auth.tokenTtl);
      return (next) => (input: unknown, context?: CallContext) =>
        next(input, withCredential(context, mint()));
    },
  };
}

/** `context` with `credential` among its headers. */
function withCredential(context: CallContext | undefined, credential: string): CallContext {
  if (context === undefined) {
    return { headers: { 'x-bp-credential': credential } satisfies Record<typeof CREDENTIAL_HEADER, string> };
  }
  return { ...context, headers: { ...context.headers, [CREDENTIAL_HEADER]: credential } };
}

/**
 * The authenticator of process `process`'s RPC server, or undefined when the topology does not
 * authenticate calls. A verified caller that is not among the process's `callers` gets `FORBIDDEN`.
 */
export function callAuthenticator(topology: Topology, process: string): CallAuthenticator | undefined {
  const auth = serviceAuthOf(topology);
  if (auth === undefined) return undefined;
  const secrets = secretsOf(auth);
  const replays = new ReplayGuard();
  const callers = topology.processes[process]?.callers;
  const allowed = callers === undefined ? undefined : new Set(callers);
  const options = { audience: process, maxTtlMs: auth.tokenTtl, clockSkewMs: auth.clockSkew, replays };
  return (credential) => {
    const { caller } = verifyCredential(credential, secrets, options);
    if (allowed !== undefined && !allowed.has(caller)) {
      throw new ForbiddenError(
        `process "${caller}" may not call process "${process}"; its callers are: ${[...allowed].join(', ')}`,
        {
          details: { caller },
        },
      );
    }
    return { caller };
  };
}
