import { describe, expect, it } from 'vitest';
import { describeInterruptedSync } from '../../functions/cli/io/sync-interrupted.ts';

describe('describeInterruptedSync', () => {
  it('says how many items were done of how many, and the bytes archived', () => {
    expect(
      describeInterruptedSync({
        phase: 'downloading',
        itemsEnqueued: 40,
        itemsDone: 12,
        bytesArchived: 3_400_000,
        bytesDownloaded: 3_400_000,
        bytesExpected: 9_000_000,
      }),
    ).toBe('Interrupted after 12 of 40 items (3.4 MB archived): run npx icloud-s3 sync again to continue.');
  });

  it('says nothing was archived before the first item was done', () => {
    const again = 'run npx icloud-s3 sync again to continue.';
    expect(describeInterruptedSync(undefined)).toBe(`Interrupted before anything was archived: ${again}`);
    expect(
      describeInterruptedSync({
        phase: 'detecting',
        itemsEnqueued: 0,
        itemsDone: 0,
        bytesArchived: 0,
        bytesDownloaded: 0,
        bytesExpected: 0,
      }),
    ).toBe(`Interrupted before anything was archived: ${again}`);
  });
});
