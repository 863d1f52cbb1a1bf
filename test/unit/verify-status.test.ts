import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { RunRecord } from '#domain/model/run.ts';
import type { JsonValue, ZoneSyncState } from '#domain/model/sync-state.ts';
import { archiveStatus, ManifestTally, trustStatus } from '#domain/verify/archive-status.ts';

const NOW = Date.UTC(2025, 5, 1, 12);
const DAY = 24 * 60 * 60 * 1000;
const ZONE = { database: 'private', zoneName: 'PrimarySync' } as const;

function zone(overrides: Partial<ZoneSyncState>): ZoneSyncState {
  return { zone: ZONE, updatedAt: NOW - 60_000, revision: 1, ...overrides };
}

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    runId: 'r',
    startedAt: NOW - 10_000,
    kind: 'detect',
    outcome: 'succeeded',
    counts: {},
    appleRequests: {},
    failures: [],
    ...overrides,
  };
}

function entry(name: string, status: ManifestEntry['status'], keys: string[]): ManifestEntry {
  return {
    zone: ZONE,
    assetRecordName: name,
    masterRecordName: `M-${name}`,
    assetChangeTag: 'a',
    status,
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: keys.map((key) => ({
      kind: 'original',
      key,
      size: 100,
      sha256: 'x',
      md5: 'y',
      fileChecksum: key,
      archivedAt: NOW,
    })),
    deletions: [],
    updatedAt: NOW,
    revision: 1,
  };
}

const base = {
  now: NOW,
  runs: [],
  databases: [],
  zones: [],
  manifest: new ManifestTally().summary(),
  counters: { objects: 0, bytes: 0 },
};

describe('archiveStatus', () => {
  it('tells a zone with a checkpoint as a first sync in progress, with its token age', () => {
    const status = archiveStatus({ ...base, zones: [zone({ checkpoint: { scope: 'library' } })] });

    expect(status.zones).toEqual([
      {
        zone: 'private/_/PrimarySync',
        zoneName: 'PrimarySync',
        database: 'private',
        progress: 'firstSyncInProgress',
        updatedAt: NOW - 60_000,
        tokenAgeMs: 60_000,
      },
    ]);
    expect(status.firstSyncInProgress).toBe(true);
  });

  it('tells a zone with a token and no checkpoint as caught up, and a retired one as retired', () => {
    const status = archiveStatus({
      ...base,
      zones: [
        zone({ syncToken: 't' }),
        zone({ zone: { ...ZONE, zoneName: 'SharedSync-1', database: 'shared' }, retired: true }),
      ],
    });

    expect(status.zones.map((z) => z.progress)).toEqual(['caughtUp', 'retired']);
    expect(status.firstSyncInProgress).toBe(false);
  });

  it('tells a caught-up zone whose checkpoint holds only records to look up again as caught up, counting those waiting for a URL', () => {
    const checkpoint: JsonValue = {
      v: 1,
      unreadable: [
        { name: 'A1', tries: 2, noUrl: true },
        { name: 'A2', tries: 0 },
      ],
    };
    const status = archiveStatus({ ...base, zones: [zone({ syncToken: 't', checkpoint })] });

    expect(status.zones[0]).toMatchObject({ progress: 'caughtUp', awaitingUrl: 1 });
    expect(status.firstSyncInProgress).toBe(false);
  });

  it('lists runs newest first with their durations, a running one measured up to now', () => {
    const status = archiveStatus({
      ...base,
      runs: [
        run({ runId: 'old', startedAt: NOW - 5 * DAY, endedAt: NOW - 5 * DAY + 4_000 }),
        run({ runId: 'live', startedAt: NOW - 30_000, outcome: 'running' }),
      ],
    });

    expect(status.runs.map((r) => [r.runId, r.durationMs])).toEqual([
      ['live', 30_000],
      ['old', 4_000],
    ]);
  });

  it('shows the first five failures of a run and how many it recorded', () => {
    const failures = Array.from({ length: 8 }, (_, i) => ({ subject: `A${i}`, reason: 'gone' }));

    const [shown] = archiveStatus({ ...base, runs: [run({ failures, outcome: 'partial' })] }).runs;

    expect(shown?.failureCount).toBe(8);
    expect(shown?.failures.map((f) => f.subject)).toEqual(['A0', 'A1', 'A2', 'A3', 'A4']);
  });
});

describe('ManifestTally', () => {
  it('counts entries by status and each shared object once', () => {
    const tally = new ManifestTally();
    tally.add(entry('a', 'archived', ['k1', 'k2']));
    tally.add(entry('b', 'archived', ['k1']));
    tally.add(entry('c', 'failed', []));

    expect(tally.summary()).toEqual({
      entries: 3,
      byStatus: { archived: 2, pending: 0, failed: 1, trashed: 0, purged: 0 },
      objects: 2,
      bytes: 200,
    });
  });
});

describe('trustStatus', () => {
  it('is unknown without an expiry', () => {
    expect(trustStatus(NOW)).toEqual({ state: 'unknown' });
  });

  it('is ok with more than a week left, and says how many days', () => {
    expect(trustStatus(NOW, NOW + 20 * DAY + 1)).toMatchObject({ state: 'ok', daysLeft: 20 });
  });

  it('warns within a week of the expiry', () => {
    expect(trustStatus(NOW, NOW + 3 * DAY).state).toBe('expiresSoon');
  });

  it('is expired once the expiry has passed', () => {
    expect(trustStatus(NOW, NOW - DAY)).toMatchObject({ state: 'expired', daysLeft: -1 });
  });
});
