import { afterEach, describe, expect, it, vi } from 'vitest';
import { plural } from '../../functions/cli/io/words.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('plural', () => {
  it('says one thing in the singular and any other count in the plural', () => {
    expect(plural(1, 'difference')).toBe('1 difference');
    expect(plural(0, 'object')).toBe('0 objects');
    expect(plural(1200, 'asset')).toBe('1,200 assets');
  });

  it('groups the thousands of a whole count as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 123_456_789, -4321])
      expect(plural(n, 'asset')).toBe(`${n.toLocaleString('en-US')} asset${n === 1 ? '' : 's'}`);
    expect(plural(1234.5, 'GB', 'GB')).toBe('1,234.5 GB');
  });

  // Intl's number formatting loads ICU's data: 10-15 ms at the end of every sync that prints its summary.
  it('writes a whole count without Intl', () => {
    const format = vi.spyOn(Number.prototype, 'toLocaleString');
    expect(plural(1_234_567, 'asset')).toBe('1,234,567 assets');
    expect(format).not.toHaveBeenCalled();
  });
});
