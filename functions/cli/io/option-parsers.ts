/**
 * The one way every command reads a numeric option: commander calls these as `argParser`s, and a
 * bad value becomes commander's invalid-argument error (exit 2, the `usage` error code under
 * `--json`), naming the option and what it takes. Enumerated options use commander's `.choices()`,
 * which fails the same way.
 */
import { InvalidArgumentError } from 'commander';

/** Parses a whole number in `min..max` (both included). */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`It takes a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Parses a decimal number in `min..max` (both included), e.g. a share of 0..1. */
export function numberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`It takes a number from ${min} to ${max}.`);
    }
    return n;
  };
}
