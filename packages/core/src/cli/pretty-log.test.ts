import { describe, expect, it } from 'vitest';
import { createLinePrefixer } from './log-prefixer.js';
import { prettyLogLine } from './pretty-log.js';

const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
const line = (entry: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time, app: 'shop', process: 'orders', pid: 1, ...entry });

describe('pretty log lines for blueprint dev', () => {
  it('turns a pino line into time, level, component, message and the other fields', () => {
    expect(
      prettyLogLine(
        line({
          component: 'rpc',
          correlationId: 'c1',
          service: 'products',
          durationMs: 0.5,
          msg: 'rpc call served',
        }),
        false,
      ),
    ).toBe('03:04:05.067 INFO  [rpc] rpc call served correlationId=c1 service=products durationMs=0.5');
  });

  it('prints errors with code and message, the stack frames and the cause on their own lines', () => {
    const text = prettyLogLine(
      line({
        level: 50,
        msg: 'rpc call served',
        err: {
          code: 'INTERNAL',
          message: 'stock table unreadable',
          stack: 'Error: stock table unreadable\n    at level (stock.ts:3:9)',
          cause: { code: 'EIO', message: 'disk full' },
        },
      }),
      false,
    );
    expect(text).toBe(
      '03:04:05.067 ERROR rpc call served err="INTERNAL: stock table unreadable"\n    at level (stock.ts:3:9)\n  caused by: err="EIO: disk full"',
    );
  });

  it('colors the level when asked, and leaves other lines alone', () => {
    expect(prettyLogLine(line({ level: 40, msg: 'slow' }), true)).toBe(
      '03:04:05.067 \u001b[33mWARN \u001b[39m slow',
    );
    expect(prettyLogLine('blueprint: ready process=orders', true)).toBe('blueprint: ready process=orders');
    expect(prettyLogLine('{"level":30,broken', false)).toBe('{"level":30,broken');
  });

  it('prefixes every line a transformed line became', () => {
    const written: string[] = [];
    const prefixer = createLinePrefixer(
      '[orders] ',
      (text) => written.push(text),
      (l) => `${l}\n  more`,
    );
    prefixer.push('one\n');
    expect(written.join('')).toBe('[orders] one\n[orders]   more\n');
  });
});
