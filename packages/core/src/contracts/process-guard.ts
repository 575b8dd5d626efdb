/**
 * The contract version guard of one process, as `createApp` builds it: the app's contracts, credentials
 * minted like a call's when the topology authenticates calls, and one log line per replica and version.
 */
import type { AppDefinition } from '../app.js';
import { mintCredential } from '../auth/credentials.js';
import { serviceAuthOf } from '../auth/service-auth.js';
import type { Logger } from '../observability/logger.js';
import type { Topology } from '../topology.js';
import { type ContractSkew, ContractVersionGuard } from './version-guard.js';

/** The guard of `process`: it logs each version difference once, with `logger`. */
export function processVersionGuard(
  app: AppDefinition,
  topology: Topology,
  process: string,
  logger: Logger,
): ContractVersionGuard {
  const auth = serviceAuthOf(topology);
  const secrets =
    auth === undefined
      ? undefined
      : { current: auth.secret.reveal(), previous: auth.previousSecret?.reveal() };
  return new ContractVersionGuard({
    contracts: app.services.map((entry) => entry.contract),
    credentialFor:
      secrets === undefined || auth === undefined
        ? undefined
        : (audience) => mintCredential(secrets, process, audience, auth.tokenTtl),
    onSkew: (skew) => logSkew(logger, skew),
  });
}

/** One line per replica and server version: info when compatible, warn when calls may fail. */
function logSkew(logger: Logger, skew: ContractSkew): void {
  const { service, url, caller, server, differences } = skew;
  const fields = { service, process: skew.process, url, caller, server, differences };
  const ours = `${service} v${caller.version} (${caller.fingerprint})`;
  if (server === undefined) {
    logger.warn(
      fields,
      `${url} serves another version of ${service} than this process's ${ours}, and its description could not be fetched: calls that fail for the difference keep their own error`,
    );
    return;
  }
  const theirs = `v${server.version} (${server.fingerprint})`;
  if (differences.length === 0) {
    logger.info(fields, `${url} serves ${service} ${theirs}, this process has ${ours}: compatible`);
    return;
  }
  logger.warn(
    fields,
    `${url} serves ${service} ${theirs}, this process has ${ours}: incompatible (${differences.join('; ')}); calls that depend on the difference fail with CONTRACT_MISMATCH`,
  );
}
