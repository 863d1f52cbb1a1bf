/**
 * A command run while another one holds the same data folder (`status` in a second terminal
 * while a `sync` runs, a second `sync` from cron) cannot open the local DynamoDB: LevelDB's LOCK
 * is held. It is told that another icloud-s3 command is using the folder and to wait for it, not
 * that the folder is damaged and to move it aside: done during a sync, that would throw away the
 * sync tokens, the Shared Albums' state and the sign-in latch (a damaged folder: aws-local-servers.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportError } from '#cli/io/error-report.ts';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-state-in-use-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** What a second opening of `dataDir` fails with, or 'opened'. */
const secondOpening = () =>
  openLocalAwsStack({ dataDir }).then(
    async (stack) => {
      await stack.stop();
      return 'opened' as const;
    },
    (error: Error) => error,
  );

describe('the local state opened while another command holds it', () => {
  it('says another icloud-s3 command is using it, not that it is damaged', async () => {
    const running = await openLocalAwsStack({ dataDir });
    try {
      await running.state.loadZones();
      const refusal = await secondOpening();
      expect(refusal).toBeInstanceOf(Error);
      const message = (refusal as Error).message;
      expect(message).not.toMatch(/it is damaged|Move it aside/);
      expect(message).toMatch(/another icloud-s3 command is using this data folder/);
      // The CLI says so with its own code, and exit 1 (try again later), as `status` documents.
      expect(reportError(refusal)).toMatchObject({ code: 'state-in-use', exitCode: 1 });
      expect(reportError(refusal).hint).toMatch(/Wait for the other icloud-s3 command/);
    } finally {
      await running.stop();
    }
    // Once the first one is done, the folder opens.
    expect(await secondOpening()).toBe('opened');
  });
});
