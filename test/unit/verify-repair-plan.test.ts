import { describe, expect, it } from 'vitest';
import type { ArchivedVersion, ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { compareArchive } from '#domain/verify/compare-archive.ts';
import type { StoredObject } from '#domain/verify/compare-objects.ts';
import { planRepair } from '#domain/verify/repair-plan.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'shared', zoneName: 'SharedSync-0001', ownerRecordName: '_owner' };
const MIRROR: DeletePolicy = { ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 0.5 };

function version(key: string, md5 = 'a'.repeat(32)): ArchivedVersion {
  return {
    kind: 'original',
    key,
    size: 100,
    sha256: 'b'.repeat(64),
    md5,
    fileChecksum: `sum-${key}`,
    archivedAt: 1,
  };
}

function entry(zone: ZoneRef, name: string, master: string, versions: ArchivedVersion[]): ManifestEntry {
  return {
    zone,
    assetRecordName: name,
    masterRecordName: master,
    assetChangeTag: 'a1',
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions,
    deletions: [],
    updatedAt: 1,
    revision: 1,
  };
}

const stored = (v: ArchivedVersion, overrides: Partial<StoredObject> = {}): StoredObject => ({
  key: v.key,
  size: v.size,
  etag: v.md5,
  ...overrides,
});

/** A manifest of `entries`, a bucket of `objects`, and the plan for what verify finds in them. */
function plan(
  entries: ManifestEntry[],
  objects: StoredObject[],
  options: { policy?: DeletePolicy; zones?: { zone: ZoneRef; retired?: boolean }[] } = {},
) {
  const report = compareArchive({ manifest: entries, objects });
  return planRepair({
    report,
    manifest: entries,
    zones: options.zones ?? [],
    deletePolicy: options.policy ?? DEFAULT_DELETE_POLICY,
  });
}

describe('planRepair', () => {
  it('archives again the asset of a missing, a truncated and a corrupt object, each with why', () => {
    const [a, b, c] = [version('a.jpg'), version('b.jpg'), version('c.jpg')];
    const entries = [
      entry(PRIMARY, 'A', 'MA', [a]),
      entry(PRIMARY, 'B', 'MB', [b]),
      entry(PRIMARY, 'C', 'MC', [c]),
    ];

    const result = plan(entries, [stored(b, { size: 50 }), stored(c, { etag: 'c'.repeat(32) })]);

    expect(result.targets.map((t) => [t.assetRecordName, [...t.brokenKeys]])).toEqual([
      ['A', [['a.jpg', 'missing']]],
      ['B', [['b.jpg', 'truncated']]],
      ['C', [['c.jpg', 'corrupt']]],
    ]);
    expect(result.leftAlone).toEqual([]);
  });

  it('archives again every entry that shares the broken object of one master', () => {
    const shared = version('shared.jpg');
    const entries = [entry(PRIMARY, 'MINE', 'M1', [shared]), entry(SHARED, 'COPY', 'M1', [shared])];

    const result = plan(entries, []);

    expect(result.targets.map((t) => t.assetRecordName).sort()).toEqual(['COPY', 'MINE']);
  });

  it('leaves a broken object of a retired zone alone and says why', () => {
    const gone = version('left.jpg');

    const result = plan([entry(SHARED, 'S', 'MS', [gone])], [], { zones: [{ zone: SHARED, retired: true }] });

    expect(result.targets).toEqual([]);
    expect(result.leftAlone).toEqual([{ subject: 'left.jpg', reason: expect.stringContaining('retired') }]);
  });

  it('removes stray objects only under mirror', () => {
    const kept = version('kept.jpg');
    const entries = [entry(PRIMARY, 'A', 'MA', [kept])];
    const objects = [stored(kept), { key: 'stray.jpg', size: 5, etag: 'd'.repeat(32) }];

    const underKeep = plan(entries, objects);
    const underMirror = plan(entries, objects, { policy: MIRROR });

    expect(underKeep.removeStrays).toEqual([]);
    expect(underKeep.keepStrays).toEqual([{ subject: 'stray.jpg', reason: expect.stringContaining('keep') }]);
    expect(underMirror.removeStrays).toEqual(['stray.jpg']);
    expect(underMirror.keepStrays).toEqual([]);
  });

  it('removes no stray object under mirror when they are more than one run may delete', () => {
    const kept = version('kept.jpg');
    const strays = ['s1', 's2', 's3'].map((key) => ({ key, size: 5, etag: 'd'.repeat(32) }));

    const result = plan([entry(PRIMARY, 'A', 'MA', [kept])], [stored(kept), ...strays], {
      policy: { ...MIRROR, maxDeleteFraction: 0.05 },
    });

    expect(result.removeStrays).toEqual([]);
    expect(result.keepStrays).toHaveLength(3);
  });

  it('archives an asset iCloud lists and the manifest lacks', () => {
    const report = {
      ...compareArchive({ manifest: [], objects: [] }),
      missing: [
        {
          type: 'notArchived' as const,
          zone: 'private/_/PrimarySync',
          assetRecordName: 'NEW',
          fileName: 'IMG_1.HEIC',
          version: 'original' as const,
          reason: 'no manifest entry',
        },
      ],
    };

    const result = planRepair({
      report,
      manifest: [],
      zones: [{ zone: PRIMARY }],
      deletePolicy: DEFAULT_DELETE_POLICY,
    });

    expect(result.targets).toEqual([
      expect.objectContaining({ assetRecordName: 'NEW', notArchived: true, zone: PRIMARY }),
    ]);
  });
});
