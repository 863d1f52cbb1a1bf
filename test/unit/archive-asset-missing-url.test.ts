/**
 * A version CloudKit lists without a `downloadURL` (icloudpd's cassette
 * `listing_photos_missing_downloadUrl`: a Live Photo whose `resOriginalRes` token has checksum and
 * size but no URL, its video's token whole) is neither archived nor forgotten: what can be
 * downloaded is archived now, the entry stays `pending` (never `archived`), and once Apple offers
 * the URL the version is archived and the entry complete.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import type { Asset } from '#domain/model/asset.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

function setUp() {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [], unavailable: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  return { deps, state, objects, cdn };
}

/** The cassette's shape: the original's token lacks `downloadURL`, the Live Photo video's is whole. */
function liveWithoutOriginalUrl(): { withUrl: Asset; withoutUrl: Asset } {
  const base = photoAsset('IMG_7409', 300);
  const original = base.versions[0]!;
  const live = {
    kind: 'live' as const,
    resourceField: 'resOriginalVidComplRes',
    size: 500,
    fileChecksum: 'checksum-live',
    uti: 'com.apple.quicktime-movie',
    downloadUrl: 'https://cdn.test/IMG_7409-live',
  };
  const withUrl: Asset = { ...base, subtypes: ['live'], versions: [original, live] };
  const withoutUrl: Asset = {
    ...withUrl,
    versions: [live],
    unavailableVersions: [
      {
        kind: 'original',
        resourceField: 'resOriginalRes',
        missing: ['downloadURL'],
        fileChecksum: original.fileChecksum,
      },
    ],
  };
  return { withUrl, withoutUrl };
}

describe('a version CloudKit lists without a download URL', () => {
  it('keeps the asset pending (not archived) and archives the versions that have a URL now', async () => {
    const { deps, state, objects, cdn } = setUp();
    const { withoutUrl } = liveWithoutOriginalUrl();
    cdn.files.set('https://cdn.test/IMG_7409-live', jpegBytes(500, 3));

    const result = await archiveCounted(deps, withoutUrl);

    const entry = await state.getEntry(withoutUrl);
    expect(entry?.status).toBe('pending');
    expect(entry?.versions.map((v) => v.kind)).toEqual(['live']);
    expect(objects.keys()).toHaveLength(1);
    expect(result.awaitingUrl).toEqual(['original']);
  });

  it('archives the version once Apple offers its URL, and the entry is then archived', async () => {
    const { deps, state, objects, cdn } = setUp();
    const { withUrl, withoutUrl } = liveWithoutOriginalUrl();
    cdn.files.set('https://cdn.test/IMG_7409-live', jpegBytes(500, 3));
    cdn.files.set('https://cdn.test/IMG_7409', jpegBytes(300, 4));
    await archiveCounted(deps, withoutUrl);

    const later = await archiveCounted(deps, withUrl);

    expect(later.outcome).toBe('archived');
    expect(later.versionsArchived).toBe(1);
    expect(later.awaitingUrl).toBeUndefined();
    const entry = await state.getEntry(withUrl);
    expect(entry?.status).toBe('archived');
    expect(entry?.versions.map((v) => v.kind).sort()).toEqual(['live', 'original']);
    expect(objects.keys()).toHaveLength(2);
  });

  it('is not waited for when the archive already holds that file', async () => {
    const { deps, state, cdn } = setUp();
    const { withUrl, withoutUrl } = liveWithoutOriginalUrl();
    cdn.files.set('https://cdn.test/IMG_7409-live', jpegBytes(500, 3));
    cdn.files.set('https://cdn.test/IMG_7409', jpegBytes(300, 4));
    await archiveCounted(deps, withUrl);

    // A later change (a favourite) served while the original's URL is missing.
    const result = await archiveCounted(deps, { ...withoutUrl, isFavorite: true });

    expect(result.awaitingUrl).toBeUndefined();
    expect((await state.getEntry(withUrl))?.status).toBe('archived');
  });

  it('does not hold the asset back for a version the policy does not keep', async () => {
    const { deps, state, cdn } = setUp();
    const asset: Asset = {
      ...photoAsset('thumbless', 200),
      unavailableVersions: [{ kind: 'thumb', resourceField: 'resJPEGThumbRes', missing: ['downloadURL'] }],
    };
    cdn.files.set('https://cdn.test/thumbless', jpegBytes(200, 5));

    const result = await archiveCounted(deps, asset);

    expect(result.awaitingUrl).toBeUndefined();
    expect((await state.getEntry(asset))?.status).toBe('archived');
  });
});
