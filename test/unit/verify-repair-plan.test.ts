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
/** Keep, with a deletion limit of every object: what a person who raised `--max-delete-fraction` runs. */
const ANY_SHARE: DeletePolicy = { ...DEFAULT_DELETE_POLICY, maxDeleteFraction: 1 };

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

    const result = plan(entries, [stored(b, { size: 50 }), stored(c, { etag: 'c'.repeat(32) })], {
      policy: ANY_SHARE,
    });

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

  describe('the brake on replacing objects (audit finding 13)', () => {
    const versions = Array.from({ length: 40 }, (_, i) => version(`p${i}.jpg`));
    const entries = versions.map((v, i) => entry(PRIMARY, `A${i}`, `M${i}`, [v]));
    /** Objects 0..n-1 with other bytes (an ETag that is not their MD5), the rest intact. */
    const corrupted = (n: number) => versions.map((v, i) => stored(v, i < n ? { etag: 'c'.repeat(32) } : {}));

    it('replaces none when more objects have other bytes or size than one run may delete, and says how many', () => {
      // 40 objects: the default 5 % lets a run delete 2; 2 corrupt and 1 truncated are 3.
      const objects = corrupted(2);
      objects[39] = stored(versions[39]!, { size: 50 });

      const result = plan(entries, objects);

      expect(result.targets).toEqual([]);
      expect(result.refused).toEqual({ objects: 3, limit: 2 });
      expect(result.leftAlone).toHaveLength(3);
      expect(result.leftAlone[0]?.reason).toContain('more than the 2 one run may delete');
    });

    it('still archives what is missing when it refuses the replacements', () => {
      const result = plan(entries, corrupted(30).slice(0, 39));

      expect(result.targets.map((t) => [t.assetRecordName, [...t.brokenKeys]])).toEqual([
        ['A39', [['p39.jpg', 'missing']]],
      ]);
      expect(result.refused).toEqual({ objects: 30, limit: 1 });
    });

    it('replaces one broken object even in an archive too small for the share to allow any', () => {
      // 10 objects: 5 % rounds down to 0. One truncated file is what `verify --repair` is for; the
      // brake is for many at once.
      const small = entries.slice(0, 10);
      const objects = versions.slice(0, 10).map((v, i) => stored(v, i === 0 ? { size: 50 } : {}));

      const result = plan(small, objects);

      expect(result.refused).toBeUndefined();
      expect(result.targets.map((t) => t.assetRecordName)).toEqual(['A0']);
      expect(
        plan(
          small,
          versions.slice(0, 10).map((v, i) => stored(v, i < 2 ? { size: 50 } : {})),
        ).refused,
      ).toEqual({ objects: 2, limit: 1 });
    });

    it('replaces them up to the limit, and all of them once the person raises it', () => {
      expect(plan(entries, corrupted(2)).targets).toHaveLength(2);
      expect(plan(entries, corrupted(2)).refused).toBeUndefined();
      expect(plan(entries, corrupted(40), { policy: ANY_SHARE }).targets).toHaveLength(40);
    });
  });
});

describe('planRepair: objects that state no MD5', () => {
  const old = (v: ArchivedVersion, overrides: Partial<StoredObject> = {}) =>
    stored(v, { etag: `${'e'.repeat(32)}-3`, ...overrides });

  it("gives each the manifest's hashes, only while its ETag is the one verify read, and replaces nothing", () => {
    const a = version('a.mov');

    const result = plan([entry(PRIMARY, 'A', 'MA', [a])], [old(a)]);

    expect(result.addMetadata).toEqual([
      { key: 'a.mov', etag: `${'e'.repeat(32)}-3`, md5: a.md5, sha256: a.sha256 },
    ]);
    expect(result.targets).toEqual([]);
    expect(result.metadataLeftAlone).toEqual([]);
  });

  it('gives none to an object whose bytes --deep found other than the manifest says: it is re-archived', () => {
    const a = version('a.mov');
    const content = { bytes: 100, sha256: 'c'.repeat(64), md5: 'd'.repeat(32) };

    const result = plan([entry(PRIMARY, 'A', 'MA', [a])], [old(a, { content })], { policy: ANY_SHARE });

    expect(result.addMetadata).toEqual([]);
    expect(result.targets.map((t) => [...t.brokenKeys])).toEqual([[['a.mov', 'corrupt']]]);
  });

  it('leaves one alone, not as a finding, when the manifest records no hashes to give it', () => {
    const a = { ...version('a.mov'), md5: '', sha256: '' };

    const result = plan([entry(PRIMARY, 'A', 'MA', [a])], [old(a)]);

    expect(result.addMetadata).toEqual([]);
    expect(result.metadataLeftAlone).toEqual([
      { subject: 'a.mov', reason: 'states no MD5, and the manifest records no MD5 and SHA-256 to give it' },
    ]);
    expect(result.leftAlone).toEqual([]);
  });
});
