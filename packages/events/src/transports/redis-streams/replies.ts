/** Reading the replies of Redis stream commands (`XREADGROUP`, `XAUTOCLAIM`, `XINFO GROUPS`). */

/** The fields of a stream entry, `[name, value, ...]`; null for an entry deleted while pending. */
export type Fields = string[] | null;

/** A stream entry as Redis returns it. */
export type RawEntry = [id: string, fields: Fields];

/** The value of field `name` of an entry, or undefined. */
export function field(fields: Fields, name: string): string | undefined {
  if (fields === null) return undefined;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** `pending` and `lag` of `group` in an `XINFO GROUPS` reply; `lag` undefined when Redis reports none. */
export function groupInfo(
  reply: unknown,
  group: string,
): { pending: number; lag: number | undefined } | undefined {
  if (!Array.isArray(reply)) return undefined;
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    if (String(fields.get('name')) !== group) continue;
    const lag = fields.get('lag');
    return {
      pending: Number(fields.get('pending') ?? 0),
      lag: lag === null || lag === undefined ? undefined : Number(lag),
    };
  }
  return undefined;
}
