/**
 * The shop's settings, read from the topology's `settings` (which take `${ENV:-default}` values).
 */

/** Settings as core hands them over (`CoreTokens.Settings`). */
export type Settings = Readonly<Record<string, string | number | boolean>>;

/** The directory of the service databases (`:memory:` for in-memory databases). Default `.data`. */
export function dataDirOf(settings: Settings): string {
  const value = settings.dataDir;
  return typeof value === 'string' && value.length > 0 ? value : '.data';
}

/** The public HTTP port of the gateway. Default 3000. */
export function httpPortOf(settings: Settings): number {
  const value = Number(settings.port ?? 3000);
  return Number.isInteger(value) && value >= 0 && value <= 65535 ? value : 3000;
}
