import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integerIn, numberIn } from '../../functions/cli/io/option-parsers.ts';

describe('integerIn', () => {
  const concurrency = integerIn(1, 64);

  it('reads whole numbers within the range, bounds included', () => {
    expect(concurrency('1')).toBe(1);
    expect(concurrency(' 64 ')).toBe(64);
  });

  it.each(['abc', '0', '65', '-1', '2.5', '', '1e1', '0x10', ' '])(
    'refuses %j as an invalid argument',
    (value) => {
      expect(() => concurrency(value)).toThrow(InvalidArgumentError);
      expect(() => concurrency(value)).toThrow('It takes a whole number from 1 to 64.');
    },
  );
});

describe('numberIn', () => {
  const share = numberIn(0, 1);

  it('reads decimals within the range', () => {
    expect(share('0.05')).toBe(0.05);
    expect(share('1')).toBe(1);
    expect(share('0')).toBe(0);
  });

  it.each(['abc', '1.5', '-0.1', '', 'NaN', 'Infinity'])('refuses %j', (value) => {
    expect(() => share(value)).toThrow(InvalidArgumentError);
  });
});
