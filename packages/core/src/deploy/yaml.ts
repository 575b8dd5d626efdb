/**
 * A small YAML writer for the files `blueprint export` writes: plain data (mappings, sequences,
 * strings, numbers, booleans, null), block style, two-space indents, keys in insertion order. A string
 * is written plain only when no YAML 1.1 or 1.2 reader could take it for anything else; otherwise it is
 * double-quoted (JSON escapes are valid YAML). Multi-line strings are literal blocks (`|`).
 */

/** A value {@link toYaml} writes. `undefined` members of a mapping are left out. */
export type YamlValue =
  | string
  | number
  | boolean
  | null
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

/** Options of {@link toYaml}. */
export interface ToYamlOptions {
  /** Lines written first as `# ...` comments. Default: none. */
  readonly comment?: readonly string[];
}

/** Writes one YAML document, ending with a newline. */
export function toYaml(value: YamlValue, options: ToYamlOptions = {}): string {
  const head = (options.comment ?? []).map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  const body = isCollection(value) && !isEmpty(value) ? block(value, 0) : `${inline(value, 0)}\n`;
  return head === '' ? body : `${head}\n${body}`;
}

/** Writes several documents separated by `---`. */
export function toYamlDocuments(values: readonly YamlValue[], options: ToYamlOptions = {}): string {
  return values
    .map((value, index) => (index === 0 ? toYaml(value, options) : `---\n${toYaml(value)}`))
    .join('');
}

type Collection = readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

function isCollection(value: YamlValue | undefined): value is Collection {
  return typeof value === 'object' && value !== null;
}

function isEmpty(value: Collection): boolean {
  return Array.isArray(value) ? value.length === 0 : entries(value).length === 0;
}

function entries(value: Collection): [string, YamlValue][] {
  return Object.entries(value).filter((entry): entry is [string, YamlValue] => entry[1] !== undefined);
}

function pad(indent: number): string {
  return ' '.repeat(indent);
}

/** A non-empty collection as block lines at `indent`, each ending with a newline. */
function block(value: Collection, indent: number): string {
  if (Array.isArray(value)) {
    return value
      .map((item: YamlValue) => {
        if (isCollection(item) && !isEmpty(item)) {
          // The first line of the item shares the line of its dash.
          return `${pad(indent)}- ${block(item, indent + 2).slice(indent + 2)}`;
        }
        return `${pad(indent)}- ${inline(item, indent + 2)}\n`;
      })
      .join('');
  }
  return entries(value)
    .map(([key, item]) => {
      const name = `${pad(indent)}${scalar(key)}:`;
      if (isCollection(item) && !isEmpty(item)) {
        return `${name}\n${block(item, Array.isArray(item) ? indent + 2 : indent + 2)}`;
      }
      return `${name} ${inline(item, indent + 2)}\n`;
    })
    .join('');
}

/** A scalar, an empty collection, or a literal block for a multi-line string. */
function inline(value: YamlValue, indent: number): string {
  if (Array.isArray(value)) return '[]';
  if (isCollection(value)) return '{}';
  if (typeof value === 'string' && value.includes('\n') && !/[\r\t]/.test(value)) {
    return literal(value, indent);
  }
  return scalar(value);
}

function literal(text: string, indent: number): string {
  const chomp = text.endsWith('\n') ? (text.endsWith('\n\n') ? '+' : '') : '-';
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const indicator = body.startsWith(' ') ? '2' : '';
  const lines = body.split('\n').map((line) => (line === '' ? '' : `${pad(indent)}${line}`));
  return `|${indicator}${chomp}\n${lines.join('\n')}`;
}

/** Words some YAML reader takes for a boolean, a null or a number. */
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~|[-+]?\.?(?:inf|nan))$/i;
const NUMBER_LIKE = /^[-+]?(?:\.?\d|0[xob])/i;
const PLAIN = /^[A-Za-z_/.$][A-Za-z0-9_./:@+$=-]*$/;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as YAML`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  const plain =
    PLAIN.test(value) &&
    !RESERVED.test(value) &&
    !NUMBER_LIKE.test(value) &&
    !value.endsWith(':') &&
    !value.includes('${') &&
    !value.includes(': ');
  return plain ? value : JSON.stringify(value);
}
