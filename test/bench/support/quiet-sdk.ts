/**
 * Drops the AWS SDK's "will require node >=22" warning, as the CLI does: on Node 20 it would
 * print into every benchmark run and every child process.
 */
export function quietSdkNodeWarning(): void {
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === 'NodeVersionSupportWarning' || String(warning).includes('will require node >=22')) return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
