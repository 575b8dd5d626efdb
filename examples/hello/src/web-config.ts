/**
 * Where the web service listens, read from the environment once, when the app is created.
 */
import type { InjectionToken } from '@blueprint/core';
import { portSchema } from '@blueprint/core/plugin';
import { z } from 'zod';

/** Settings of the HTTP server. */
export interface WebConfig {
  /** Port to listen on: `PORT`, default 3000. */
  readonly port: number;
  /** Host to bind: `HOST`, default `localhost` (IPv4 and IPv6 loopback). */
  readonly host: string;
}

/** DI token of {@link WebConfig}. */
export const WebConfigToken: InjectionToken<WebConfig> = Symbol.for('hello:web-config');

const envSchema = z.object({
  PORT: portSchema.optional().default(3000),
  HOST: z.string().min(1).optional().default('localhost'),
});

/** Reads {@link WebConfig} from `env`; a bad `PORT` throws a message naming the value. */
export function readWebConfig(env: Readonly<Record<string, string | undefined>>): WebConfig {
  const parsed = envSchema.safeParse({ PORT: env.PORT || undefined, HOST: env.HOST || undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid ${issue?.path.join('.') ?? 'environment'}: ${issue?.message ?? 'bad value'}`);
  }
  return { port: parsed.data.PORT, host: parsed.data.HOST };
}
