import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isReservedWindowsName,
  MAX_SEGMENT_BYTES,
  sanitizeSegment,
  suffixedSegment,
  truncateUtf8,
  utf8Length,
} from '#domain/plan/sanitize.ts';

const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f-\u009f]/u;

function assertSafe(segment: string): void {
  expect(segment).not.toBe('');
  expect(segment).not.toBe('.');
  expect(segment).not.toBe('..');
  expect(segment.normalize('NFC')).toBe(segment);
  expect(segment).not.toMatch(FORBIDDEN);
  expect(segment).not.toMatch(/^\s|[\s.]$/u);
  expect(segment.startsWith('.')).toBe(false);
  expect(isReservedWindowsName(segment)).toBe(false);
  expect(utf8Length(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  expect(Buffer.from(segment, 'utf8').toString('utf8')).toBe(segment);
}

describe('sanitizeSegment', () => {
  const table: Array<[string, string, string]> = [
    ['keeps an ordinary Apple name', 'IMG_0001.HEIC', 'IMG_0001.HEIC'],
    ['turns NFD input into NFC', 'Cafe\u0301.JPG', 'Café.JPG'],
    ['keeps non-ASCII letters', 'IMG_中文_7409.JPG', 'IMG_中文_7409.JPG'],
    ['keeps emoji', 'Beach 🏖️👨‍👩‍👧.JPG', 'Beach 🏖️👨‍👩‍👧.JPG'],
    ['replaces a slash', 'a/b.JPG', 'a_b.JPG'],
    [
      'replaces every Windows-forbidden character',
      'i/n v:a\u0000l*i?d\\p<a>t"h|.JPG',
      'i_n v_a_l_i_d_p_a_t_h_.JPG',
    ],
    ['replaces control characters', 'a\u0001b\u007fc\u0085d.PNG', 'a_b_c_d.PNG'],
    ['replaces bidirectional overrides', 'IMG\u202eGPJ.exe', 'IMG_GPJ.exe'],
    ['prefixes CON with an extension', 'CON.jpg', '_CON.jpg'],
    ['prefixes aux in lower case without extension', 'aux', '_aux'],
    ['prefixes a device name with several extensions', 'Com1.tar.gz', '_Com1.tar.gz'],
    ['prefixes LPT with a superscript digit', 'LPT¹.txt', '_LPT¹.txt'],
    ['leaves a name that only starts like a device', 'CONCERT.JPG', 'CONCERT.JPG'],
    ['drops trailing dots and spaces', 'holiday. . ', 'holiday'],
    [
      'drops leading and trailing whitespace including narrow no-break space',
      '\u202f IMG.JPG \u00a0',
      'IMG.JPG',
    ],
    [
      'keeps the macOS screenshot narrow no-break space inside',
      'Screenshot 1.40.01\u202fPM.png',
      'Screenshot 1.40.01\u202fPM.png',
    ],
    ['turns .. into nothing usable', '..', ''],
    ['turns . into nothing usable', '.', ''],
    ['turns only dots into nothing usable', '.....', ''],
    ['turns the empty name into nothing usable', '', ''],
    ['turns only spaces into nothing usable', '   ', ''],
    ['does not make a hidden file', '.hidden.JPG', '_hidden.JPG'],
    ['replaces a lone surrogate', 'a\ud800b.JPG', 'a_b.JPG'],
    ['strips a zero-width space', 'IMG\u200b_0001.JPG', 'IMG_0001.JPG'],
    ['strips a zero-width non-joiner', 'IMG_\u200c0001.JPG', 'IMG_0001.JPG'],
    ['strips a zero-width joiner between letters', 'IMG\u200d_0001.JPG', 'IMG_0001.JPG'],
    ['strips a word joiner', 'IMG_00\u206001.JPG', 'IMG_0001.JPG'],
    ['strips a byte order mark at the start', '\ufeffIMG_0001.JPG', 'IMG_0001.JPG'],
    ['strips a byte order mark inside', 'IMG_0001\ufeff.JPG', 'IMG_0001.JPG'],
    ['strips zero-width characters hiding a leading dot', '\u200b.hidden.JPG', '_hidden.JPG'],
    ['strips zero-width characters hiding a device name', 'CON\u200b.jpg', '_CON.jpg'],
    ['turns only zero-width characters into nothing usable', '\u200b\u200c\ufeff', ''],
    ['keeps the joiner of an emoji sequence with a skin tone', '👩🏽\u200d💻.JPG', '👩🏽\u200d💻.JPG'],
    ['strips a joiner after an emoji when a letter follows', '👍\u200dA.JPG', '👍A.JPG'],
    ['prefixes CONIN$', 'CONIN$', '_CONIN$'],
    ['prefixes conout$ with an extension', 'conout$.txt', '_conout$.txt'],
    ['leaves a name that only starts like CONIN$', 'CONIN$X.JPG', 'CONIN$X.JPG'],
  ];
  it.each(table)('%s', (_, input, expected) => {
    expect(sanitizeSegment(input)).toBe(expected);
  });

  it('cuts a 300-byte name of multi-byte characters to MAX_SEGMENT_BYTES keeping the extension', () => {
    const name = `${'日'.repeat(100)}.HEIC`; // 300 bytes of stem
    const safe = sanitizeSegment(name);
    expect(utf8Length(safe)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(safe.endsWith('.HEIC')).toBe(true);
    expect(safe).toBe(`${'日'.repeat(65)}.HEIC`);
  });

  it('never splits an emoji sequence when cutting', () => {
    const family = '👨‍👩‍👧‍👦'; // 25 bytes, one grapheme
    const safe = sanitizeSegment(`${family.repeat(12)}.JPG`);
    expect(safe).toBe(`${family.repeat(7)}.JPG`);
  });

  it('cuts a name whose long tail is not an extension', () => {
    const safe = sanitizeSegment(`a.${'x y'.repeat(120)}`);
    expect(utf8Length(safe)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    assertSafe(safe);
  });

  it('returns a safe segment or nothing for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (raw) => {
        const safe = sanitizeSegment(raw);
        if (safe !== '') assertSafe(safe);
      }),
      { numRuns: 800 },
    );
  });

  it('is deterministic and idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (raw) => {
        const once = sanitizeSegment(raw);
        expect(sanitizeSegment(raw)).toBe(once);
        expect(sanitizeSegment(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('suffixedSegment', () => {
  it('keeps the suffix and the extension of any name whole, and the result safe', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (raw) => {
        const safe = sanitizeSegment(raw) || 'unnamed';
        const made = suffixedSegment(safe, '_abcdefg', '.JPG');
        assertSafe(made);
        expect(made.endsWith('_abcdefg.JPG')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is sanitizeSegment of the joined name whenever the suffix fits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (raw) => {
        const safe = sanitizeSegment(raw) || 'unnamed';
        expect(suffixedSegment(safe, ' (ABCDEFGH)')).toBe(sanitizeSegment(`${safe} (ABCDEFGH)`));
      }),
      { numRuns: 300 },
    );
  });
});

describe('truncateUtf8', () => {
  it('keeps text that already fits', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
  });

  it('cuts before a multi-byte character that would not fit', () => {
    expect(truncateUtf8('aé', 2)).toBe('a');
  });
});
