/**
 * The cleanups Ctrl-C runs before exiting (`#shared/interrupt-cleanup.ts`, finding 58): each runs
 * once, a failing one does not stop the others, and a forgotten one (its `finally` ran) does not run.
 */
import { expect, it } from 'vitest';
import { cleanUpOnInterrupt, runInterruptCleanups } from '#shared/interrupt-cleanup.ts';

it('runs every registered cleanup once, past a failing one, and not the forgotten ones', async () => {
  const ran: string[] = [];
  cleanUpOnInterrupt(async () => {
    throw new Error('server already stopped');
  });
  cleanUpOnInterrupt(async () => {
    ran.push('copy removed');
  });
  const forget = cleanUpOnInterrupt(async () => {
    ran.push('closed twice');
  });
  forget();

  await runInterruptCleanups();
  await runInterruptCleanups();
  expect(ran).toEqual(['copy removed']);
});
