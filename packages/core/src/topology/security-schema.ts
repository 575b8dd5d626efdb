// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the topology's own ${VAR} syntax
/**
 * The `auth` and `tls` sections of a topology: how calls between services are authenticated and
 * encrypted.
 */
import { z } from 'zod';
import { durationSchema } from '../units.js';
import { Secret } from './secret.js';

/** Shortest service secret accepted. */
export const MIN_SECRET_LENGTH = 32;

const secretSchema = z
  .string({ error: 'use a string (from the environment: "${SERVICE_SECRET}")' })
  .min(
    MIN_SECRET_LENGTH,
    `use a secret of at least ${MIN_SECRET_LENGTH} characters, e.g. the output of \`openssl rand -base64 32\``,
  )
  .transform((value) => new Secret(value));

/** `auth` as an object: calls between services carry a credential signed with `secret`. */
export const serviceAuthSchema = z.strictObject({
  /** The shared secret credentials are signed with; at least 32 characters. Read it from the environment. */
  secret: secretSchema,
  /** The previous secret, still accepted while every process moves to a new one. Default: none. */
  previousSecret: secretSchema.optional(),
  /** How long a credential is valid. Default: `"10s"`. */
  tokenTtl: durationSchema.optional().default(10_000),
  /** Tolerated clock difference between hosts. Default: `"5s"`. */
  clockSkew: durationSchema.optional().default(5_000),
});

/**
 * The `auth` section: an object with the secret, or `"none"` to opt out in so many words (loopback
 * experiments only: a process that binds a public interface refuses to start without auth).
 */
export const authSectionSchema = z.union([z.literal('none'), serviceAuthSchema], {
  error: 'use { "secret": "${SERVICE_SECRET}" } or "none"',
});

/** The parsed `auth` section. */
export type AuthTopology = z.output<typeof authSectionSchema>;

/** The parsed `auth` section when calls are authenticated. */
export type ServiceAuthTopology = z.output<typeof serviceAuthSchema>;

const pemPath = z.string().min(1, 'name a PEM file, relative to the topology file');

/**
 * The `tls` section (top level for every process, or per process): an `https://` address serves TLS
 * with `cert` and `key`, and clients verify servers against `ca`. With `clientCert` and `clientKey`
 * calls use mutual TLS: servers ask for a client certificate signed by `ca` and refuse calls without one.
 */
export const tlsSectionSchema = z.strictObject({
  /** The CA certificate (PEM) server and client certificates are verified against. */
  ca: pemPath,
  /** This process's server certificate (PEM). */
  cert: pemPath,
  /** Its private key (PEM). */
  key: pemPath,
  /** This process's client certificate (PEM), for mutual TLS. Default: none (server-only TLS). */
  clientCert: pemPath.optional(),
  /** Its private key (PEM). Required with `clientCert`. */
  clientKey: pemPath.optional(),
});

/** The parsed `tls` section. */
export type TlsTopology = z.output<typeof tlsSectionSchema>;
