import { describe, expect, it } from 'vitest';
import { plural } from '../../functions/cli/io/words.ts';

describe('plural', () => {
  it('says one thing in the singular and any other count in the plural', () => {
    expect(plural(1, 'difference')).toBe('1 difference');
    expect(plural(0, 'object')).toBe('0 objects');
    expect(plural(1200, 'asset')).toBe('1,200 assets');
  });
});
