import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalPrompter } from '../../functions/cli/io/prompts.ts';

describe('TerminalPrompter.secret', () => {
  it('reads the password without echoing it or a mask character per key', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
    });
    const answer = new TerminalPrompter({ input, output }).secret('Apple ID password');
    for (const key of 'hunter2') input.write(key);
    input.write('\r');

    expect(await answer).toBe('hunter2');
    expect(shown).toContain('Apple ID password');
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('*');
  });
});
