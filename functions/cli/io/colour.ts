/**
 * Whether a stream gets colour, decided per stream: stdout and stderr may go to different places
 * (`icloud-s3 sync 2>errors.log`), and escape codes must not land in a file. FORCE_COLOR wins
 * (`0` or `false` turns colour off), then NO_COLOR (https://no-color.org), then the stream's isTTY.
 */

export type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold' | 'cyan';

/** SGR open and close codes; written by hand so the decision above is the only one. */
const SGR: Readonly<Record<Style, readonly [number, number]>> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export function colourFor(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env['NO_COLOR']) return false;
  return stream.isTTY === true;
}

export function paint(style: Style, text: string): string {
  const [open, close] = SGR[style];
  return `\x1b[${open}m${text}\x1b[${close}m`;
}
