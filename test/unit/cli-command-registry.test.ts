/**
 * The descriptors `--help` is built from (functions/cli/command-registry.ts) say what the commands
 * themselves say, and argv picks the command to load, values of program options aside.
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandNamed } from '../../functions/cli/command-registry.ts';

describe('the command registry', () => {
  it.each(COMMANDS.map((d) => [d.name, d] as const))(
    'describes %s as the command does',
    async (_, descriptor) => {
      const command = await descriptor.load();
      expect(command.name()).toBe(descriptor.name);
      expect(command.description()).toBe(descriptor.description);
      expect(new Help().subcommandTerm(command)).toBe(descriptor.term);
    },
  );

  it('finds the command argv names, skipping the values of program options', () => {
    const argv = (...args: string[]) => ['node', 'icloud-s3', ...args];
    expect(commandNamed(argv('--help'))).toBeUndefined();
    expect(commandNamed(argv('--version'))).toBeUndefined();
    expect(commandNamed(argv('sync', '--help'))?.name).toBe('sync');
    expect(commandNamed(argv('help', 'status'))?.name).toBe('status');
    expect(commandNamed(argv('--local', 'sync', 'status'))?.name).toBe('status');
    expect(commandNamed(argv('--endpoint', 'demo', '--json', 'debug', 'records', 'x.json'))?.name).toBe(
      'debug',
    );
    expect(commandNamed(argv('--', 'sync'))).toBeUndefined();
  });
});
