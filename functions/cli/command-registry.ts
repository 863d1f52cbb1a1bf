/**
 * Every subcommand, in help order, as a descriptor: what `icloud-s3 --help` lists (name, the term
 * commander prints, the one-line description) and how to load the command itself. A command's
 * module (and the AWS SDK, adapters or simulator it pulls in) is imported only when argv names it,
 * so `--help` and `--version` load none of them (issue 12). Adding a command is one entry here;
 * its description must match the one its module gives commander (test/unit/cli-registry.test.ts).
 */
import type { Command } from 'commander';

export interface CommandDescriptor {
  readonly name: string;
  /** What the program's help prints in the command column (`login [options]`). */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandDescriptor[] = [
  {
    name: 'login',
    term: 'login [options]',
    description: 'sign in to iCloud (password and two-factor code) and store the session',
    load: async () => (await import('./commands/login.ts')).loginCommand(),
  },
  {
    name: 'sync',
    term: 'sync [options]',
    description: 'run the whole pipeline once on this machine (local S3, DynamoDB and SQS)',
    load: async () => (await import('./commands/sync.ts')).syncCommand(),
  },
  {
    name: 'status',
    term: 'status [options]',
    description: 'show the last runs, zone progress, archive size and trust expiry',
    load: async () => (await import('./commands/status.ts')).statusCommand(),
  },
  {
    name: 'verify',
    term: 'verify [options]',
    description: 'check the archive against iCloud and the manifest against the bucket',
    load: async () => (await import('./commands/verify.ts')).verifyCommand(),
  },
  {
    name: 'rebuild-state',
    term: 'rebuild-state [options]',
    description: 'rebuild the manifest from the bucket (catalog and object metadata), downloading no photo',
    load: async () => (await import('./commands/rebuild-state.ts')).rebuildStateCommand(),
  },
  {
    name: 'local',
    term: 'local',
    description: 'work with the local archive (--local DIR, default ./.icloud-s3)',
    load: async () => (await import('./commands/local-serve.ts')).localCommand(),
  },
  {
    name: 'library',
    term: 'library [options]',
    description: 'show what your iCloud Photos library holds, per zone, by kind',
    load: async () => (await import('./commands/library.ts')).libraryCommand(),
  },
  {
    name: 'debug',
    term: 'debug',
    description: 'tools for looking at what Apple sends',
    load: async () => (await import('./commands/debug-records.ts')).debugCommand(),
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'show the whole pipeline on this machine against the built-in iCloud simulator',
    load: async () => (await import('./commands/demo.ts')).demoCommand(),
  },
];

/** Program options that take a value, so the value is not mistaken for a command name. */
const VALUE_OPTIONS = new Set(['--endpoint', '--session-file', '--local']);

/** The command argv runs (`help sync` runs sync's help), or undefined when it names none. */
export function commandNamed(argv: readonly string[]): CommandDescriptor | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return undefined;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    const found = COMMANDS.find((c) => c.name === arg);
    if (found !== undefined) return found;
  }
  return undefined;
}
