/**
 * The grapheme clusters of a text (what a person sees as one character: an emoji sequence, a
 * letter with its combining accent), for cutting names and header values without splitting one.
 *
 * The segmenter is made on first use: making it loads ICU's break-iteration data, 8-20 ms of
 * every process that imports the name and metadata rules (each sync of the CLI, each Lambda cold
 * start), while only an over-long name or header value is ever cut.
 */
let segmenter: Intl.Segmenter | undefined;

export function* graphemes(text: string): Generator<string> {
  segmenter ??= new Intl.Segmenter('und', { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(text)) yield segment;
}
