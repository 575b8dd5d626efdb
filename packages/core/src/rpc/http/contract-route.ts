/**
 * `GET /contracts/<service>` on the `http` RPC listener: the description of a hosted service's contract
 * (version, fingerprint, the methods' JSON Schemas), for a caller whose version differs. It is
 * authenticated like a call (the same credential and `callers`), and answers only hosted services.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallAuthenticator } from '../../auth/credentials.js';
import type { Codec } from '../../codec.js';
import { RpcUnknownMethodError } from '../../errors.js';
import type { RpcDispatcher } from '../types.js';
import { CONTRACT_PATH_PREFIX, credentialOf } from './protocol.js';

/** What the route needs from its server. */
export interface ContractRouteDeps {
  readonly dispatcher: RpcDispatcher;
  readonly codec: Codec;
  readonly authenticate: CallAuthenticator | undefined;
  /** Writes a success; `contract` is the fingerprint for `x-bp-contract`. */
  readonly succeed: (response: ServerResponse, body: string, contract?: string) => void;
  /** Writes an error answer. */
  readonly fail: (response: ServerResponse, error: unknown) => void;
}

/** True when `request` is `GET /contracts/...`; it is then answered. */
export function answerContractRoute(
  deps: ContractRouteDeps,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const url = request.url ?? '/';
  if (request.method !== 'GET' || !url.startsWith(CONTRACT_PATH_PREFIX)) return false;
  if (deps.authenticate !== undefined) {
    try {
      deps.authenticate(credentialOf(request));
    } catch (error) {
      deps.fail(response, error);
      return true;
    }
  }
  let service: string | undefined;
  try {
    service = decodeURIComponent(url.slice(CONTRACT_PATH_PREFIX.length));
  } catch {
    service = undefined;
  }
  const description = service === undefined ? undefined : deps.dispatcher.describe?.(service);
  if (description === undefined) {
    deps.fail(
      response,
      new RpcUnknownMethodError(
        `no service of that name is hosted here; ask GET ${CONTRACT_PATH_PREFIX}<service> of a service this process hosts`,
      ),
    );
    return true;
  }
  deps.succeed(response, deps.codec.encode(description), description.fingerprint);
  return true;
}
