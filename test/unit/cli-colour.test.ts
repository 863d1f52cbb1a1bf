import { describe, expect, it } from 'vitest';
import { colourFor, paint } from '../../functions/cli/io/colour.ts';

const tty = { isTTY: true };
const file = { isTTY: false };

describe('colourFor', () => {
  it('decides by the stream itself: a terminal gets colour, a redirected file does not', () => {
    expect(colourFor(tty, {})).toBe(true);
    expect(colourFor(file, {})).toBe(false);
    expect(colourFor({}, {})).toBe(false);
  });

  it('honours NO_COLOR on a terminal (any non-empty value)', () => {
    expect(colourFor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourFor(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('lets FORCE_COLOR turn colour on for a file, or off with 0', () => {
    expect(colourFor(file, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourFor(file, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(colourFor(tty, { FORCE_COLOR: '0' })).toBe(false);
  });
});

describe('paint', () => {
  it('wraps the text in its SGR codes', () => {
    expect(paint('red', 'x')).toBe('\x1b[31mx\x1b[39m');
  });
});
