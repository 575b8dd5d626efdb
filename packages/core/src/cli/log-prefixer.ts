/**
 * Prefixed, colored log lines for `blueprint dev`: each child's output is split into lines and every
 * line starts with `[name]`, padded so the columns line up.
 */

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92] as const;

/** Options of {@link formatPrefix}. */
export interface PrefixOptions {
  /** Width the bracketed name is padded to. Default: its own length. */
  readonly width?: number;
  /** Index of the color in the palette (cycles). Default: 0. */
  readonly colorIndex?: number;
  /** Emit ANSI colors. Default: false. */
  readonly color?: boolean;
}

/** Builds the prefix of a child's lines, e.g. `[products] ` (colored when asked). */
export function formatPrefix(name: string, options: PrefixOptions = {}): string {
  const label = `[${name}]`.padEnd(options.width ?? 0);
  if (!options.color) return `${label} `;
  const code = COLORS[(options.colorIndex ?? 0) % COLORS.length];
  return `\u001b[${code}m${label}\u001b[39m `;
}

/**
 * Whether to color output: on a TTY unless `NO_COLOR` is set; always when `FORCE_COLOR` is set to
 * something other than `0`.
 */
export function shouldColor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>) {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** Splits a stream of chunks into lines and writes each line with a prefix. */
export interface LinePrefixer {
  /** Adds a chunk; complete lines are written at once, a partial line waits for the rest. */
  push(chunk: string | Buffer): void;
  /** Writes what is left of a partial line (call when the stream ends). */
  flush(): void;
}

/**
 * Creates a {@link LinePrefixer} that writes `prefix + line + "\n"` through `write`. `transform`, when
 * given, rewrites each line first (it may return several lines; each gets the prefix).
 */
export function createLinePrefixer(
  prefix: string,
  write: (text: string) => void,
  transform?: (line: string) => string,
): LinePrefixer {
  let pending = '';
  const format = (line: string) => {
    const text = line.replace(/\r$/, '');
    if (transform === undefined) return `${prefix}${text}\n`;
    return transform(text)
      .split('\n')
      .map((part) => `${prefix}${part}\n`)
      .join('');
  };
  return {
    push(chunk) {
      const text = pending + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      if (lines.length > 0) write(lines.map(format).join(''));
    },
    flush() {
      if (pending !== '') write(format(pending));
      pending = '';
    },
  };
}
