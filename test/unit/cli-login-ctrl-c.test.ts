/**
 * Ctrl-C at a `login` prompt (password, code, delivery menu). On a terminal
 * the prompt is @inquirer's, in raw mode: Ctrl-C is a key it turns into `ExitPromptError`, which
 * `main` reports. docs/commands.md: Ctrl-C is `interrupted`, exit 130; `internal` means "a fault of
 * icloud-s3 itself: please report it". Finding 52.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { reportError } from '../../functions/cli/io/error-report.ts';
import { TerminalPrompter } from '../../functions/cli/io/prompts.ts';

describe('Ctrl-C at a login prompt on a terminal', () => {
  it('is reported as interrupted (exit 130), not as an internal fault', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const answer = new TerminalPrompter({ input, output }).secret('Apple ID password');
    input.write('\x03');
    const error = await answer.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    const report = reportError(error, 'icloud-s3 login');
    expect({ code: report.code, exitCode: report.exitCode, message: report.message }).toMatchObject({
      code: 'interrupted',
      exitCode: 130,
    });
  });
});
