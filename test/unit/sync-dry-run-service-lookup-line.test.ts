/** `sync --dry-run`'s summary says when it asked the account for the Shared Albums service (finding 84). */
import { describe, expect, it } from 'vitest';
import { describeSummary } from '#cli/commands/sync.ts';
import type { Output } from '#cli/io/output.ts';
import type { SyncSummary } from '#local/local-sync.ts';

function lines(summary: Partial<SyncSummary>): string[] {
  const out: string[] = [];
  const say = (text: string) => out.push(text);
  const output = { json: false, info: say, success: say, warn: say, error: say } as unknown as Output;
  describeSummary(output, {
    outcome: 'idle',
    dryRun: true,
    detectRuns: 1,
    itemsEnqueued: 0,
    assets: { archived: 0, skipped: 0, updated: 0, deleted: 0, failed: 0 },
    versionsArchived: 0,
    bytesArchived: 0,
    appleRequests: { accountLogin: 1 },
    appleRequestsTotal: 1,
    durationMs: 10,
    deadLetters: 0,
    failures: [],
    ...summary,
  } as SyncSummary);
  return out;
}

describe('the dry run summary', () => {
  it('says what a run would store after asking the account, idle or not', () => {
    expect(lines({ sharedAlbumsServiceLookup: 'found' })[0]).toBe(
      'Shared Albums: the session names no service; the account, asked, lists it: a run would store it in the session.',
    );
    expect(lines({ outcome: 'dryRun', sharedAlbumsServiceLookup: 'none' })[0]).toContain(
      'lists none: a run would ask again in a day',
    );
    expect(lines({}).join('\n')).not.toContain('names no service');
  });
});
