import { describe, expect, it } from 'vitest';
import { PHOTOS_UNAVAILABLE_HINT } from '#domain/errors.ts';
import type { SyncSummary } from '#local/local-sync.ts';
import { errorResult } from '../../functions/cli/io/error-report.ts';
import { syncStopReason } from '../../functions/cli/io/sync-stop.ts';

const summary = (extra: Partial<SyncSummary>): SyncSummary => ({
  outcome: 'succeeded',
  dryRun: false,
  detectRuns: 1,
  itemsEnqueued: 0,
  assets: { archived: 0, skipped: 0, updated: 0, failed: 0, deleted: 0 },
  versionsArchived: 0,
  bytesArchived: 0,
  appleRequests: {},
  appleRequestsTotal: 0,
  durationMs: 10,
  deadLetters: 0,
  failures: [],
  ...extra,
});

describe('syncStopReason', () => {
  it('has nothing to say about a run that went to its end', () => {
    expect(syncStopReason(summary({}))).toBeUndefined();
    expect(syncStopReason(summary({ outcome: 'partial' }))).toBeUndefined();
  });

  it('reports a refused mass deletion with its numbers and what to do, exit 1', () => {
    const report = syncStopReason(
      summary({
        outcome: 'deletionRefused',
        deletionRefused: { wouldDelete: 40, archiveObjects: 100, limit: 5, queued: 0 },
      }),
    );
    expect(report).toMatchObject({ code: 'deletion-refused', exitCode: 1 });
    expect(report?.message).toContain('Refused to delete 40 of 100 archived objects (at most 5 per run)');
    expect(report?.message).toContain('nothing was deleted');
    expect(report?.hint).toContain('--max-delete-fraction');
  });

  it('says how many objects earlier pages of the refused run queued for deletion, not "nothing"', () => {
    const report = syncStopReason(
      summary({
        outcome: 'deletionRefused',
        deletionRefused: { wouldDelete: 6, archiveObjects: 100, limit: 5, queued: 4 },
      }),
    );
    expect(report?.message).toContain('4 were queued for deletion before the stop');
    expect(report?.message).not.toContain('nothing was deleted');
  });

  it('reports a run stopped for a new sign-in as needs-login, exit 3, in the one error shape', () => {
    const report = syncStopReason(summary({ outcome: 'reauthRequired', action: 'icloud-s3 login --force' }));
    expect(report && errorResult(report)).toEqual({
      status: 'error',
      error: {
        code: 'needs-login',
        message: 'iCloud needs you to sign in again',
        hint: 'Run: npx icloud-s3 login --force',
      },
      exitCode: 3,
    });
  });

  it('says what helps when iCloud will not serve the photo library: a setting, not a new sign-in', () => {
    const message = `iCloud answered ZONE_NOT_FOUND for your photo library (PrimarySync): ${PHOTOS_UNAVAILABLE_HINT}`;
    const report = syncStopReason(summary({ outcome: 'reauthRequired', message, action: 'icloud-s3 login' }));
    expect(report).toMatchObject({ code: 'needs-login', message, exitCode: 3 });
    expect(report?.hint).toContain('Access iCloud Data on the Web');
    expect(report?.hint).toContain('npx icloud-s3 library');
    expect(report?.hint).not.toMatch(/^Run: npx icloud-s3 login/);
  });
});
