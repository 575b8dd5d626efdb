import { describe, expect, it } from 'vitest';
import { createLinePrefixer, formatPrefix, shouldColor } from './log-prefixer.js';

describe('log prefixer', () => {
  it('prefixes every complete line and holds a partial one until the rest arrives', () => {
    const written: string[] = [];
    const prefixer = createLinePrefixer('[web] ', (text) => written.push(text));
    prefixer.push('one\ntw');
    prefixer.push('o\r\nthree');
    expect(written.join('')).toBe('[web] one\n[web] two\n');
    prefixer.flush();
    expect(written.join('')).toBe('[web] one\n[web] two\n[web] three\n');
    prefixer.flush();
    expect(written).toHaveLength(3);
  });

  it('pads names to a common width and colors them only when asked', () => {
    expect(formatPrefix('web', { width: 9 })).toBe('[web]     ');
    expect(formatPrefix('products', { colorIndex: 1, color: true })).toBe('\u001b[35m[products]\u001b[39m ');
  });

  it('colors a TTY unless NO_COLOR is set, and anything when FORCE_COLOR is set', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(true);
  });
});
