import { afterEach, describe, expect, it, vi } from 'vitest';

/** Counts the `Intl.Segmenter`s made while `run` loads and uses the modules it imports afresh. */
async function segmentersMadeBy(run: () => Promise<void>): Promise<number> {
  const Original = Intl.Segmenter;
  let made = 0;
  class Counting extends Original {
    constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
      super(...args);
      made++;
    }
  }
  const intl = Intl as { Segmenter: typeof Intl.Segmenter };
  intl.Segmenter = Counting;
  try {
    vi.resetModules();
    await run();
    return made;
  } finally {
    intl.Segmenter = Original;
  }
}

afterEach(() => {
  vi.resetModules();
});

describe('grapheme clusters', () => {
  it('keeps an emoji sequence and a letter with its combining accent whole', async () => {
    const { graphemes } = await import('#domain/plan/graphemes.ts');
    expect([...graphemes('a👩‍👩‍👧e\u0301!')]).toEqual(['a', '👩‍👩‍👧', 'e\u0301', '!']);
  });

  // Making a segmenter loads ICU's break-iteration data: 8-20 ms of every process importing the
  // name and metadata rules (each sync of the CLI, each Lambda cold start), while only an
  // over-long name or header value is ever cut.
  it('makes no segmenter until a text is cut, and one for all the cuts after', async () => {
    const made = await segmentersMadeBy(async () => {
      const sanitize = await import('#domain/plan/sanitize.ts');
      const metadata = await import('#domain/plan/object-metadata.ts');
      expect(sanitize.sanitizeSegment('IMG_0001.HEIC')).toBe('IMG_0001.HEIC');
      expect(metadata.encodeHeaderValue('IMG_0001.HEIC')).toBe('IMG_0001.HEIC');
    });
    expect(made).toBe(0);
    const afterCuts = await segmentersMadeBy(async () => {
      const { truncateUtf8 } = await import('#domain/plan/sanitize.ts');
      expect(truncateUtf8('é'.repeat(300), 10)).toBe('é'.repeat(5));
      expect(truncateUtf8('ü'.repeat(300), 4)).toBe('ü'.repeat(2));
    });
    expect(afterCuts).toBe(1);
  });
});
