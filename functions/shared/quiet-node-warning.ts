/**
 * The AWS SDK warns on every client that Node 20 support ends in 2027. icloud-s3 supports Node 20
 * and 22 (Lambda runs 22), so on a person's terminal, in benchmarks and in child processes that
 * one warning is noise. Every other warning still prints.
 */
export function quietNodeVersionWarning(): void {
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === 'NodeVersionSupportWarning' || String(warning).includes('will require node >=22')) return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
