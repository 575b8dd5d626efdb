/** The limits of the `tcp` RPC server and their defaults (a module of its own, so the driver's schema loads no socket code). */

/** The limits of a `tcp` RPC server. */
export interface TcpServerLimits {
  /** Largest call body, in bytes; a larger one is skipped unread and answered `RPC_PAYLOAD_TOO_LARGE`. */
  readonly bodyLimit: number;
  /** Largest call head (names, propagated headers, credential), in bytes; larger closes the connection. */
  readonly maxHeaderSize: number;
  /** Calls one connection may have in flight; further ones are answered `REMOTE_UNAVAILABLE` (503). */
  readonly maxInFlight: number;
  /** Connections open at once; further ones are told so and closed. */
  readonly maxConnections: number;
  /** Time from a connection's start until its preface (and, for TLS, its handshake) is in, in ms. */
  readonly headersTimeout: number;
  /** Time a frame may take to arrive whole once its first byte came, in ms. */
  readonly frameTimeout: number;
  /** Time a connection without calls stays open before the server asks the client to go, in ms. */
  readonly idleTimeout: number;
}

/** The defaults of {@link TcpServerLimits}, those of the `http` server where they mean the same. */
export const DEFAULT_TCP_SERVER_LIMITS: TcpServerLimits = Object.freeze({
  bodyLimit: 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  maxInFlight: 1024,
  maxConnections: 1024,
  headersTimeout: 10_000,
  frameTimeout: 30_000,
  idleTimeout: 60_000,
});
