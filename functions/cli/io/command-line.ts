/**
 * The command line a person typed, as a command to paste again with something added: what a
 * "Run: …" hint prints when the next step is the same command with one more option
 * (`verify` → `verify --repair`). Written with `npx icloud-s3`, as the README and docs are.
 */

/** A word quoted for a POSIX shell when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function sameCommandWith(extra: string, argv: readonly string[] = process.argv): string {
  return ['npx icloud-s3', ...argv.slice(2).map(shellWord), ...(extra ? [extra] : [])].join(' ');
}
