/**
 * Readable log lines for `blueprint dev`: a pino JSON line becomes `12:04:05.123 INFO  [rpc] message
 * key=value ...`; any other line is left as it is.
 */

const LEVELS: Readonly<Record<number, { name: string; color: number }>> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 90 },
  30: { name: 'INFO', color: 32 },
  40: { name: 'WARN', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
};

/** Fields every line carries, left out of the readable form (the dev prefix names the process). */
const HIDDEN = new Set(['level', 'time', 'msg', 'app', 'process', 'pid', 'hostname', 'component', 'err']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function formatTime(epochMs: unknown): string {
  if (typeof epochMs !== 'number') return '';
  const date = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)} `;
}

interface LoggedError {
  code?: unknown;
  message?: unknown;
  stack?: unknown;
  cause?: LoggedError;
}

function formatError(err: LoggedError): string {
  let out = ` err=${formatValue(`${String(err.code ?? 'ERROR')}: ${String(err.message ?? '')}`)}`;
  if (typeof err.stack === 'string') {
    const frames = err.stack.split('\n').filter((line) => line.trimStart().startsWith('at '));
    if (frames.length > 0) out += `\n    ${frames.map((f) => f.trim()).join('\n    ')}`;
  }
  if (err.cause !== undefined && typeof err.cause === 'object')
    out += `\n  caused by:${formatError(err.cause)}`;
  return out;
}

/**
 * Formats one output line of a process: a pino JSON line becomes readable (several lines when it
 * carries a stack); other lines come back unchanged.
 */
export function prettyLogLine(line: string, color: boolean): string {
  if (!line.startsWith('{"level":')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level), color: 39 };
  const levelText = level.name.padEnd(5);
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[39m` : text);
  let out = `${formatTime(entry.time)}${paint(level.color, levelText)} `;
  if (typeof entry.component === 'string') out += `[${entry.component}] `;
  out += typeof entry.msg === 'string' ? entry.msg : '';
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    out += ` ${paint(90, `${key}=`)}${formatValue(value)}`;
  }
  if (typeof entry.err === 'object' && entry.err !== null) out += formatError(entry.err as LoggedError);
  return out;
}
