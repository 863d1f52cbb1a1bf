import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Asset, AssetVersion, VersionKind } from '#domain/model/asset.ts';
import type { ArchivedVersion, ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_VERSION_POLICY, parseVersionPolicy } from '#domain/plan/version-policy.ts';
import { compareArchive } from '#domain/verify/compare-archive.ts';
import { NO_URL_REASON } from '#domain/verify/compare-library.ts';
import type { StoredObject } from '#domain/verify/compare-objects.ts';
import { type LibraryScope, libraryAssetOf } from '#domain/verify/library-asset.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'shared', zoneName: 'SharedSync-0001', ownerRecordName: '_owner' };
const NOW = Date.UTC(2025, 0, 1);

const hex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex');

function version(kind: VersionKind, fileChecksum = `${kind}-sum`, size = 1000): AssetVersion {
  return { kind, resourceField: `res-${kind}`, size, fileChecksum, uti: 'public.heic' };
}

function assetOf(name: string, overrides: Partial<Asset> = {}): Asset {
  return {
    zone: PRIMARY,
    assetRecordName: `ASSET-${name}`,
    masterRecordName: `MASTER-${name}`,
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName: `IMG_${name}.HEIC`,
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    captureTime: Date.UTC(2024, 6, 14),
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [version('original', `orig-${name}`), version('live', `live-${name}`)],
    ...overrides,
  };
}

/** The archived form of one version of `asset`, keyed under library/. */
function archived(asset: Asset, kind: VersionKind): ArchivedVersion {
  const source = asset.versions.find((v) => v.kind === kind)!;
  const key = `library/2024/2024-07-14/${asset.fileName}${kind === 'original' ? '' : `.${kind}`}`;
  return {
    kind,
    key,
    size: source.size,
    sha256: hex('sha256', key),
    md5: hex('md5', key),
    fileChecksum: source.fileChecksum,
    archivedAt: NOW,
  };
}

function entryOf(asset: Asset, overrides: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    zone: asset.zone,
    assetRecordName: asset.assetRecordName,
    masterRecordName: asset.masterRecordName,
    assetChangeTag: asset.assetChangeTag,
    masterChangeTag: asset.masterChangeTag,
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: asset.versions.map((v) => archived(asset, v.kind)),
    deletions: [],
    updatedAt: NOW,
    revision: 1,
    ...overrides,
  };
}

/** The bucket object for an archived version, single-part (ETag = MD5) unless told otherwise. */
function objectOf(v: ArchivedVersion, overrides: Partial<StoredObject> = {}): StoredObject {
  return {
    key: v.key,
    size: v.size,
    etag: v.md5,
    md5Base64: Buffer.from(v.md5, 'hex').toString('base64'),
    ...overrides,
  };
}

const libraryOf = (assets: Asset[], scope: LibraryScope = 'library') =>
  assets.map((a) => libraryAssetOf(a, scope, DEFAULT_VERSION_POLICY));

/** An archive in full agreement with a library of `assets`. */
function agreeing(assets: Asset[]) {
  const manifest = assets.map((a) => entryOf(a));
  const objects = manifest.flatMap((e) => e.versions.map((v) => objectOf(v)));
  return { library: libraryOf(assets), manifest, objects };
}

describe('compareArchive: everything agrees', () => {
  it('reports ok with empty lists when library, manifest and bucket agree', () => {
    const input = agreeing([assetOf('1'), assetOf('2')]);

    const report = compareArchive(input);

    expect(report.ok).toBe(true);
    expect([report.missing, report.extra, report.sizeMismatches, report.checksumMismatches]).toEqual([
      [],
      [],
      [],
      [],
    ]);
    expect(report.checked).toMatchObject({
      library: true,
      libraryAssets: 2,
      expectedVersions: 4,
      manifestEntries: 2,
      manifestObjects: 4,
      bucketObjects: 4,
      md5Compared: 4,
    });
  });

  it('skips the iCloud side when no library is given', () => {
    const { manifest, objects } = agreeing([assetOf('1')]);

    const report = compareArchive({ manifest, objects });

    expect(report.ok).toBe(true);
    expect(report.checked.library).toBe(false);
  });
});

describe('compareArchive: a version iCloud lists without a download URL', () => {
  const withoutOriginalUrl = (asset: Asset): Asset => ({
    ...asset,
    versions: asset.versions.filter((v) => v.kind !== 'original'),
    unavailableVersions: [
      { kind: 'original', resourceField: 'resOriginalRes', missing: ['downloadURL'], fileChecksum: 'orig-1' },
    ],
  });

  it('is missing, with the reason, when the archive holds only the versions that had a URL', () => {
    const photo = assetOf('1');
    const entry = entryOf(photo, { status: 'pending', versions: [archived(photo, 'live')] });
    const objects = entry.versions.map((v) => objectOf(v));

    const report = compareArchive({
      library: libraryOf([withoutOriginalUrl(photo)]),
      manifest: [entry],
      objects,
    });

    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([
      expect.objectContaining({
        assetRecordName: photo.assetRecordName,
        version: 'original',
        reason: NO_URL_REASON,
      }),
    ]);
  });

  it('is not missing when the archive already holds that file', () => {
    const photo = assetOf('1');
    const { manifest, objects } = agreeing([photo]);

    const report = compareArchive({ library: libraryOf([withoutOriginalUrl(photo)]), manifest, objects });

    expect(report.ok).toBe(true);
  });
});

describe('compareArchive: the archive against iCloud', () => {
  it('reports a library version the manifest does not hold as missing, with the reason', () => {
    const asset = assetOf('1');
    const input = agreeing([asset]);
    const manifest = [entryOf(asset, { versions: [archived(asset, 'original')] })];

    const report = compareArchive({ ...input, manifest, objects: input.objects.slice(0, 1) });

    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([
      {
        type: 'notArchived',
        zone: 'private/_/PrimarySync',
        assetRecordName: 'ASSET-1',
        fileName: 'IMG_1.HEIC',
        version: 'live',
        reason: 'version not archived',
      },
    ]);
  });

  it('names a failed entry and its reason as why a version is missing', () => {
    const asset = assetOf('1');
    const failed = entryOf(asset, {
      status: 'failed',
      versions: [],
      failure: { reason: 'size mismatch from CDN', at: NOW, attempts: 3 },
    });

    const report = compareArchive({ library: libraryOf([asset]), manifest: [failed], objects: [] });

    expect(report.missing.map((m) => (m.type === 'notArchived' ? m.reason : ''))).toEqual([
      'failed: size mismatch from CDN',
      'failed: size mismatch from CDN',
    ]);
  });

  it('reports an asset with no manifest entry as not archived', () => {
    const report = compareArchive({ library: libraryOf([assetOf('1')]), manifest: [], objects: [] });

    expect(report.missing).toHaveLength(2);
    expect(report.missing[0]).toMatchObject({ type: 'notArchived', reason: 'no manifest entry' });
  });

  it('follows the version policy: previews are not expected by default but are when selected', () => {
    const asset = assetOf('1', { versions: [version('original'), version('thumb')] });
    const manifest = [entryOf(asset, { versions: [archived(asset, 'original')] })];
    const objects = manifest[0]!.versions.map((v) => objectOf(v));

    const byDefault = compareArchive({ library: libraryOf([asset]), manifest, objects });
    const withThumbs = compareArchive({
      library: [libraryAssetOf(asset, 'library', parseVersionPolicy('default,thumb'))],
      manifest,
      objects,
    });

    expect(byDefault.ok).toBe(true);
    expect(withThumbs.missing).toMatchObject([{ type: 'notArchived', version: 'thumb' }]);
  });

  it('accepts a version archived under another asset of the same master (a duplicate, the Shared Library copy)', () => {
    const mine = assetOf('1');
    const sharedCopy = { ...mine, zone: SHARED, assetRecordName: 'ASSET-1-shared' };
    const manifest = [entryOf(mine), entryOf(sharedCopy, { versions: [] })];
    const objects = manifest[0]!.versions.map((v) => objectOf(v));

    const report = compareArchive({ library: libraryOf([mine, sharedCopy]), manifest, objects });

    expect(report.ok).toBe(true);
  });

  it('expects photos in Recently Deleted to be archived: after the purge only the archive has them', () => {
    const report = compareArchive({
      library: libraryOf([assetOf('1')], 'recentlyDeleted'),
      manifest: [],
      objects: [],
    });

    expect(report.ok).toBe(false);
    expect(report.missing).toContainEqual(
      expect.objectContaining({
        type: 'notArchived',
        assetRecordName: 'ASSET-1',
        reason: 'no manifest entry',
      }),
    );
  });

  it('accepts a photo in Recently Deleted archived as trashed', () => {
    const trashed = assetOf('1');
    const input = agreeing([trashed]);
    const manifest = input.manifest.map((e) => ({
      ...e,
      status: 'trashed' as const,
      flags: { ...e.flags, isDeleted: true },
    }));

    const report = compareArchive({ ...input, library: libraryOf([trashed], 'recentlyDeleted'), manifest });

    expect(report.ok).toBe(true);
  });

  it('reports archived versions of an asset iCloud no longer lists as extra', () => {
    const gone = assetOf('gone');
    const input = agreeing([assetOf('1')]);
    const manifest = [...input.manifest, entryOf(gone)];
    const objects = [...input.objects, ...manifest[1]!.versions.map((v) => objectOf(v))];

    const report = compareArchive({ ...input, manifest, objects });

    expect(report.extra).toEqual([
      {
        type: 'notInIcloud',
        zone: 'private/_/PrimarySync',
        assetRecordName: 'ASSET-gone',
        status: 'archived',
        keys: manifest[1]!.versions.map((v) => v.key),
      },
    ]);
  });

  it('accepts archived versions of a gone asset when the manifest records its purge or trash', () => {
    const purged = assetOf('p');
    const trashed = assetOf('t');
    const manifest = [entryOf(purged, { status: 'purged' }), entryOf(trashed, { status: 'trashed' })];
    const objects = manifest.flatMap((e) => e.versions.map((v) => objectOf(v)));

    const report = compareArchive({ library: [], manifest, objects });

    expect(report.ok).toBe(true);
  });

  it('accepts the archived entries of a retired zone (a Shared Library the person left)', () => {
    const left = assetOf('s', { zone: SHARED });
    const manifest = [entryOf(left)];
    const objects = manifest.flatMap((e) => e.versions.map((v) => objectOf(v)));

    const report = compareArchive({
      library: [],
      manifest,
      objects,
      retiredZones: ['shared/_owner/SharedSync-0001'],
    });

    expect(report.extra).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('finds a gone asset also when iCloud lists an asset of the same name in another zone', () => {
    const mine = assetOf('1');
    const inShared = { ...mine, zone: SHARED };
    const input = agreeing([mine]);

    const report = compareArchive({ ...input, library: libraryOf([inShared]) });

    expect(report.extra).toMatchObject([{ type: 'notInIcloud', zone: 'private/_/PrimarySync' }]);
  });
});

describe('compareArchive: the manifest against the bucket', () => {
  it('reports a deleted object as missing', () => {
    const input = agreeing([assetOf('1')]);
    const [deleted, ...rest] = input.objects;

    const report = compareArchive({ ...input, objects: rest });

    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([
      {
        type: 'objectMissing',
        key: deleted!.key,
        zone: 'private/_/PrimarySync',
        assetRecordName: 'ASSET-1',
        version: 'original',
      },
    ]);
  });

  it('reports a truncated object as a size mismatch only, not also as a checksum mismatch', () => {
    const input = agreeing([assetOf('1')]);
    const [first, ...rest] = input.objects;
    const truncated = { ...first!, size: 10, etag: hex('md5', 'fewer bytes') };

    const report = compareArchive({ ...input, objects: [truncated, ...rest] });

    expect(report.sizeMismatches).toEqual([
      {
        key: first!.key,
        zone: 'private/_/PrimarySync',
        assetRecordName: 'ASSET-1',
        expected: 1000,
        actual: 10,
      },
    ]);
    expect(report.checksumMismatches).toEqual([]);
  });

  it('reports an object of the right size whose ETag is another MD5 as a checksum mismatch', () => {
    const input = agreeing([assetOf('1')]);
    const [first, ...rest] = input.objects;
    const other = hex('md5', 'same size, other bytes');

    const report = compareArchive({ ...input, objects: [{ ...first!, etag: other }, ...rest] });

    expect(report.checksumMismatches).toEqual([
      expect.objectContaining({ key: first!.key, algorithm: 'md5', source: 'etag', actual: other }),
    ]);
  });

  it('uses md5chksum for a multipart object, whose ETag is not an MD5', () => {
    const input = agreeing([assetOf('1')]);
    const [first, ...rest] = input.objects;
    const multipart = { ...first!, etag: `${hex('md5', 'parts')}-2` };
    const wrong = { ...multipart, md5Base64: Buffer.from(hex('md5', 'x'), 'hex').toString('base64') };

    const good = compareArchive({ ...input, objects: [multipart, ...rest] });
    const bad = compareArchive({ ...input, objects: [wrong, ...rest] });

    expect(good.ok).toBe(true);
    expect(bad.checksumMismatches).toMatchObject([{ key: first!.key, source: 'md5chksum' }]);
  });

  it('counts a multipart object without md5chksum as unverifiable, not as a mismatch', () => {
    const input = agreeing([assetOf('1')]);
    const [first, ...rest] = input.objects;
    const bare = { key: first!.key, size: first!.size, etag: `${hex('md5', 'parts')}-3` };

    const report = compareArchive({ ...input, objects: [bare, ...rest] });

    expect(report.ok).toBe(true);
    expect(report.checked.md5Unavailable).toBe(1);
  });

  it('ignores ETags when told they are not MD5s (SSE-KMS) and compares md5chksum', () => {
    const input = agreeing([assetOf('1')]);
    const kmsEtags = input.objects.map((o) => ({ ...o, etag: hex('md5', `kms-${o.key}`) }));

    const report = compareArchive({ ...input, objects: kmsEtags, etagsAreMd5: false });

    expect(report.ok).toBe(true);
    expect(report.checked.md5Compared).toBe(2);
  });

  it('reports an object no manifest entry references as extra', () => {
    const input = agreeing([assetOf('1')]);
    const stray = { key: 'library/2024/2024-07-14/stray.jpg', size: 5, etag: hex('md5', 'stray') };

    const report = compareArchive({ ...input, objects: [...input.objects, stray] });

    expect(report.extra).toEqual([{ type: 'unreferencedObject', key: stray.key, size: 5 }]);
  });

  it('says so when an extra object is one the manifest recorded as deleted', () => {
    const asset = assetOf('1');
    const input = agreeing([asset]);
    const key = 'library/2024/2024-07-14/IMG_1-edited.JPG';
    const manifest = [
      entryOf(asset, { deletions: [{ kind: 'adjusted', key, deletedAt: NOW, reason: 'purged in iCloud' }] }),
    ];
    const objects = [...input.objects, { key, size: 7, etag: hex('md5', key) }];

    const report = compareArchive({ ...input, manifest, objects });

    expect(report.extra).toEqual([
      {
        type: 'unreferencedObject',
        key,
        size: 7,
        recordedDeletion: { deletedAt: NOW, reason: 'purged in iCloud' },
      },
    ]);
  });

  it('checks one object once when two entries of one master reference it', () => {
    const mine = assetOf('1');
    const duplicate = { ...mine, assetRecordName: 'ASSET-1-dup' };
    const manifest = [entryOf(mine), entryOf(duplicate)];
    const objects = manifest[0]!.versions.map((v) => objectOf(v));

    const report = compareArchive({ library: libraryOf([mine, duplicate]), manifest, objects });

    expect(report.ok).toBe(true);
    expect(report.checked.manifestObjects).toBe(2);
  });

  it('with read-back content, reports bytes whose SHA-256 differs from the manifest', () => {
    const input = agreeing([assetOf('1')]);
    const [first, second] = input.objects;
    const v = input.manifest[0]!.versions;
    const good = { ...first!, content: { bytes: 1000, sha256: v[0]!.sha256, md5: v[0]!.md5 } };
    const rotten = { ...second!, content: { bytes: 1000, sha256: hex('sha256', 'rot'), md5: v[1]!.md5 } };

    const report = compareArchive({ ...input, objects: [good, rotten] });

    expect(report.checked.contentHashed).toBe(2);
    expect(report.checksumMismatches).toEqual([
      expect.objectContaining({ key: second!.key, algorithm: 'sha256', source: 'content' }),
    ]);
  });

  it('with read-back content, reports fewer bytes read than listed as a size mismatch', () => {
    const input = agreeing([assetOf('1')]);
    const [first, ...rest] = input.objects;
    const v = input.manifest[0]!.versions[0]!;
    const short = { ...first!, content: { bytes: 999, sha256: v.sha256, md5: v.md5 } };

    const report = compareArchive({ ...input, objects: [short, ...rest] });

    expect(report.sizeMismatches).toMatchObject([{ key: first!.key, expected: 1000, actual: 999 }]);
  });

  it('shows the stored counters beside a recount of the manifest', () => {
    const input = agreeing([assetOf('1')]);

    const report = compareArchive({ ...input, counters: { objects: 1, bytes: 1000 } });

    expect(report.counters).toEqual({
      recorded: { objects: 1, bytes: 1000 },
      recounted: { objects: 2, bytes: 2000 },
    });
  });
});
