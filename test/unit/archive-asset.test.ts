import { createHash } from 'node:crypto';
/**
 * Archiving one asset over fakes with real semantics (compare-and-set manifest, key claims,
 * an object store that consumes and checks the body): idempotence, adoption after a crash,
 * duplicates of one master, and failures that must leave nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { SHA256_METADATA_KEY } from '#domain/archive/archive-asset.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { ConflictError, ContentLengthMismatchError, DownloadUrlExpiredError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { MAX_OBJECT_BYTES } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

/** A state store whose first manifest write loses a race to another worker's identical write. */
class RacedManifestStore extends InMemorySyncStateStore {
  raced = false;
  override async putEntry(entry: ManifestEntryInput, expectedRevision: number) {
    if (!this.raced) {
      this.raced = true;
      await super.putEntry(entry, expectedRevision);
      throw new ConflictError('another worker wrote the entry first');
    }
    return super.putEntry(entry, expectedRevision);
  }
}

function setUp(state = new InMemorySyncStateStore({ now: () => NOW })) {
  const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const refreshed: string[] = [];
  const lookups: string[][] = [];
  const fresh = new Map<string, Asset>();
  /** Assets the refresh answers as not returned this time (a lookup error entry), with why. */
  const unavailable = new Map<string, string>();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async (_zone, keys) => {
      refreshed.push(...keys.map((k) => k.assetRecordName));
      lookups.push(keys.map((k) => k.assetRecordName));
      return {
        assets: keys.flatMap((k) => fresh.get(k.assetRecordName) ?? []),
        unavailable: keys.flatMap((k) => {
          const reason = unavailable.get(k.assetRecordName);
          return reason === undefined ? [] : [{ assetRecordName: k.assetRecordName, reason }];
        }),
      };
    },
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  const serve = (asset: Asset, bytes = jpegBytes(asset.versions[0]?.size ?? 0, 7)) => {
    const url = asset.versions[0]?.downloadUrl;
    if (url !== undefined) cdn.files.set(url, bytes);
    return bytes;
  };
  return { deps, state, objects, cdn, serve, refreshed, lookups, fresh, unavailable };
}

describe('archiving an asset', () => {
  it('stores the original, lists it in the manifest, and does nothing the second time', async () => {
    const { deps, objects, cdn, serve } = setUp();
    const asset = photoAsset('one', 100);
    const bytes = serve(asset);

    const first = await archiveCounted(deps, asset);
    const second = await archiveCounted(deps, asset);

    expect(first).toMatchObject({ outcome: 'archived', versionsArchived: 1, bytesArchived: 100 });
    expect(first.entry?.versions.map((v) => v.key)).toEqual(objects.keys());
    expect(first.entry?.versions[0]).toMatchObject({
      size: 100,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      md5: createHash('md5').update(bytes).digest('hex'),
    });
    expect(second.outcome).toBe('unchanged');
    expect(cdn.opened).toHaveLength(1);
  });

  it('adopts an object a crashed attempt stored before its manifest write, without downloading again', async () => {
    const { deps, objects, cdn, serve, state } = setUp();
    const asset = photoAsset('crashed', 100);
    serve(asset);
    const first = await archiveCounted(deps, asset);
    const key = first.entry?.versions[0]?.key ?? '';
    // The manifest write never happened: a fresh manifest, the object and its key claim remain.
    const fresh = setUp();
    for (const k of objects.keys()) {
      const stored = await objects.getStream(k);
      if (stored === undefined) continue;
      await fresh.objects.putStream(k, stored.body, {
        contentType: 'image/jpeg',
        contentLength: stored.head.size,
        metadata: Object.fromEntries(Object.entries(stored.head.metadata).filter(([m]) => m !== 'md5chksum')),
      });
      await fresh.state.claimKey(k, (await state.keyOwner(k)) ?? '');
    }

    const result = await archiveCounted(fresh.deps, asset);

    expect(fresh.cdn.opened).toEqual([]);
    expect(result.entry?.versions).toEqual([
      expect.objectContaining({ key, sha256: first.entry?.versions[0]?.sha256 }),
    ]);
    expect(cdn.opened).toHaveLength(1);
  });

  it('does not adopt an object whose recorded hash is missing, and replaces it with the real file', async () => {
    const { deps, objects, cdn, serve, state } = setUp();
    const asset = photoAsset('half', 100);
    const bytes = serve(asset);
    const first = await archiveCounted(deps, asset);
    const key = first.entry?.versions[0]?.key ?? '';
    const { deps: again, objects: fresh, cdn: cdn2, state: state2 } = setUp();
    cdn2.files.set(asset.versions[0]?.downloadUrl ?? '', bytes);
    await fresh.putStream(key, (await objects.getStream(key))?.body ?? process.stdin, {
      contentType: 'image/jpeg',
      contentLength: 100,
      metadata: mtimeMetadata(0),
    });
    await state2.claimKey(key, (await state.keyOwner(key)) ?? '');

    const result = await archiveCounted(again, asset);

    expect(cdn2.opened).toHaveLength(1);
    expect((await fresh.head(key))?.metadata[SHA256_METADATA_KEY]).toBe(result.entry?.versions[0]?.sha256);
    expect(cdn.opened).toHaveLength(1);
  });

  it('stores a master shared by two assets once, under one key both entries list', async () => {
    const { deps, objects, serve } = setUp();
    const original = photoAsset('dup', 100);
    const duplicate: Asset = { ...original, assetRecordName: 'asset-dup-copy' };
    serve(original);

    const a = await archiveCounted(deps, original);
    const b = await archiveCounted(deps, duplicate);

    expect(objects.keys()).toHaveLength(1);
    expect(b.entry?.versions.map((v) => v.key)).toEqual(a.entry?.versions.map((v) => v.key));
  });

  it('re-reads and merges once when another worker wrote the manifest entry first', async () => {
    const state = new RacedManifestStore({ now: () => NOW });
    const { deps, serve, cdn } = setUp(state);
    const asset = photoAsset('race', 100);
    serve(asset);

    const result = await archiveCounted(deps, asset);

    expect(result.outcome).toBe('unchanged');
    expect(cdn.opened).toHaveLength(1);
    expect((await state.getEntry({ zone: ZONE, assetRecordName: 'asset-race' }))?.versions).toHaveLength(1);
  });

  it('leaves no object when the body is shorter than CloudKit reported', async () => {
    const { deps, objects, serve } = setUp();
    const asset = photoAsset('short', 100);
    serve(asset, jpegBytes(60));

    await expect(archiveCounted(deps, asset)).rejects.toThrow(ContentLengthMismatchError);

    expect(objects.keys()).toEqual([]);
    expect(await deps.state.getEntry({ zone: ZONE, assetRecordName: 'asset-short' })).toBeUndefined();
  });

  it('leaves no object when the CDN sends an error page instead of the file', async () => {
    const { deps, objects, serve } = setUp();
    const asset = photoAsset('page', 40);
    serve(asset, Buffer.from('<html><body>Service Unavailable</body></html>'.padEnd(40, ' ')));

    await expect(archiveCounted(deps, asset)).rejects.toThrow();

    expect(objects.keys()).toEqual([]);
  });
});

describe('carrying out a work message', () => {
  it('refreshes an expired download URL once and archives with the fresh one', async () => {
    const { deps, cdn, fresh, refreshed, objects } = setUp();
    const stale = photoAsset('expired', 50);
    cdn.files.set(stale.versions[0]?.downloadUrl ?? '', () => new DownloadUrlExpiredError('410'));
    const renewed = photoAsset('renewed', 50);
    const current: Asset = { ...renewed, assetRecordName: stale.assetRecordName };
    cdn.files.set(renewed.versions[0]?.downloadUrl ?? '', jpegBytes(50));
    fresh.set(stale.assetRecordName, current);

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: stale }],
    });

    expect(result).toMatchObject({ archived: 1, failed: 0 });
    expect(refreshed).toEqual([stale.assetRecordName]);
    expect(objects.keys()).toHaveLength(1);
  });

  it('refreshes every asset of a message whose URLs are older than the limit in one lookup', async () => {
    const { deps, cdn, fresh, refreshed } = setUp();
    const assets = [photoAsset('old1', 20), photoAsset('old2', 20)];
    for (const asset of assets) {
      cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(20));
      fresh.set(asset.assetRecordName, asset);
    }

    await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW - 2 * 60 * 60 * 1000,
      items: assets.map((asset) => ({ type: 'asset' as const, asset })),
    });

    expect(refreshed).toEqual(assets.map((a) => a.assetRecordName));
  });

  it('refreshes the rest of the message in one lookup when a URL expires mid-way', async () => {
    const { deps, cdn, fresh, lookups, objects } = setUp();
    const stale = [photoAsset('a', 20), photoAsset('b', 20), photoAsset('c', 20)];
    for (const asset of stale) {
      cdn.files.set(asset.versions[0]?.downloadUrl ?? '', () => new DownloadUrlExpiredError('410'));
      const renewed = photoAsset(`${asset.assetRecordName}-renewed`, 20);
      cdn.files.set(renewed.versions[0]?.downloadUrl ?? '', jpegBytes(20));
      fresh.set(asset.assetRecordName, { ...renewed, assetRecordName: asset.assetRecordName });
    }

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: stale.map((asset) => ({ type: 'asset' as const, asset })),
    });

    expect(result).toMatchObject({ archived: 3, failed: 0 });
    expect(lookups).toEqual([stale.map((a) => a.assetRecordName)]);
    expect(objects.keys()).toHaveLength(3);
  });

  it('finishes the other items and then fails the message when one item hit a retryable error', async () => {
    const { deps, cdn, objects } = setUp();
    const good = photoAsset('good', 20);
    const bad = photoAsset('bad', 20);
    cdn.files.set(good.versions[0]?.downloadUrl ?? '', jpegBytes(20));
    cdn.files.set(bad.versions[0]?.downloadUrl ?? '', () =>
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    );

    await expect(
      processWorkMessage(deps, {
        v: WORK_MESSAGE_VERSION,
        runId: 'r',
        issuedAt: NOW,
        items: [
          { type: 'asset', asset: bad },
          { type: 'asset', asset: good },
        ],
      }),
    ).rejects.toThrow('reset');

    expect(objects.keys()).toHaveLength(1);
  });

  it('records a version larger than S3 stores as failed for good, without opening its download', async () => {
    const { deps, cdn, objects, state } = setUp();
    const huge = photoAsset('huge', MAX_OBJECT_BYTES + 1);
    cdn.files.set(huge.versions[0]?.downloadUrl ?? '', jpegBytes(20));

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: huge }],
    });

    expect(cdn.opened).toEqual([]);
    expect(objects.keys()).toEqual([]);
    expect(result).toMatchObject({ failed: 1 });
    const entry = await state.getEntry({ zone: ZONE, assetRecordName: 'asset-huge' });
    expect(entry?.status).toBe('failed');
    expect(entry?.failure?.reason).toContain('ObjectTooLargeError');
  });

  it('S143: archives with the old URL when a refresh of an old message could not return the asset', async () => {
    const { deps, cdn, unavailable, objects, state } = setUp();
    const asset = photoAsset('kept', 20);
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(20));
    unavailable.set(asset.assetRecordName, 'NOT_FOUND (Record not found)');

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW - 2 * 60 * 60 * 1000,
      items: [{ type: 'asset', asset }],
    });

    expect(result).toMatchObject({ archived: 1, failed: 0 });
    expect(objects.keys()).toHaveLength(1);
    expect((await state.getEntry(asset))?.status).toBe('archived');
  });

  it('S143: fails an expired asset the refresh could not return as retryable, leaving its manifest entry alone', async () => {
    const { deps, cdn, unavailable, objects, state, fresh } = setUp();
    const gone = photoAsset('unreturned', 20);
    const good = photoAsset('fine', 20);
    fresh.set(good.assetRecordName, good);
    cdn.files.set(gone.versions[0]?.downloadUrl ?? '', () => new DownloadUrlExpiredError('410'));
    cdn.files.set(good.versions[0]?.downloadUrl ?? '', jpegBytes(20));
    unavailable.set(gone.assetRecordName, 'INTERNAL_ERROR');

    await expect(
      processWorkMessage(deps, {
        v: WORK_MESSAGE_VERSION,
        runId: 'r',
        issuedAt: NOW,
        items: [
          { type: 'asset', asset: gone },
          { type: 'asset', asset: good },
        ],
      }),
    ).rejects.toThrow(`CloudKit could not return ${gone.assetRecordName} on refresh: INTERNAL_ERROR`);

    expect(await state.getEntry(gone)).toBeUndefined();
    expect(objects.keys()).toHaveLength(1);
  });

  it('S144: refreshes up front an asset whose URL is past its own expiry, even in a young message', async () => {
    const { deps, cdn, fresh, refreshed, objects } = setUp();
    const asset = photoAsset('past-e', 20);
    const renewed = { ...photoAsset('renewed-e', 20), assetRecordName: asset.assetRecordName };
    cdn.files.set(renewed.versions[0]?.downloadUrl ?? '', jpegBytes(20));
    fresh.set(asset.assetRecordName, renewed);
    const expiresAt = (url: string) =>
      url === asset.versions[0]?.downloadUrl ? NOW - 1000 : NOW + 3_600_000;
    const withExpiry: ArchiveDeps = { ...deps, downloader: { open: (u, o) => cdn.open(u, o), expiresAt } };

    const result = await processWorkMessage(withExpiry, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [{ type: 'asset', asset }],
    });

    expect(result).toMatchObject({ archived: 1 });
    expect(refreshed).toEqual([asset.assetRecordName]);
    expect(cdn.opened).toEqual([renewed.versions[0]?.downloadUrl]);
    expect(objects.keys()).toHaveLength(1);
  });

  it('S143: fails an asset-only change whose lookup CloudKit could not answer as retryable, not as a deletion', async () => {
    const { deps, unavailable, objects, state } = setUp();
    const asset = photoAsset('asset-only', 20);
    unavailable.set(asset.assetRecordName, 'NOT_FOUND (Record not found)');

    await expect(
      processWorkMessage(deps, {
        v: WORK_MESSAGE_VERSION,
        runId: 'r',
        issuedAt: NOW,
        items: [
          {
            type: 'assetOnly',
            change: {
              zone: asset.zone,
              assetRecordName: asset.assetRecordName,
              masterRecordName: asset.masterRecordName,
              assetChangeTag: 'a2',
              isFavorite: true,
              isHidden: false,
              isDeleted: false,
              isExpunged: false,
              versions: [],
            },
          },
        ],
      }),
    ).rejects.toThrow(/could not return .* on refresh: NOT_FOUND/);

    expect(await state.getEntry(asset)).toBeUndefined();
    expect(objects.keys()).toHaveLength(0);
  });
});

describe('keys of objects archived before the name sanitizer changed', () => {
  it('stay where they are: the original is not archived again, and a later edit sits beside it under its name', async () => {
    const { deps, state, objects, cdn } = setUp();
    const original = { ...photoAsset('zw', 100), fileName: 'IMG\u200b_0001.JPG' };
    cdn.files.set(original.versions[0]!.downloadUrl!, jpegBytes(100, 7));
    await archiveCounted(deps, original);
    // Rewrite what was archived as an older release named it: zero-width space and all.
    const archived = (await state.getEntry(original))!;
    const current = archived.versions[0]!.key;
    const legacy = current.replace('IMG_0001', 'IMG\u200b_0001');
    expect(legacy).not.toBe(current);
    await state.claimKey(
      legacy,
      `${original.masterRecordName}/original/${original.versions[0]!.fileChecksum}`,
    );
    await state.putEntry(
      { ...archived, versions: archived.versions.map((v) => ({ ...v, key: legacy })) },
      archived.revision,
    );

    const edited: Asset = {
      ...original,
      versions: [
        ...original.versions,
        {
          kind: 'adjusted',
          resourceField: 'resJPEGFullRes',
          size: 80,
          fileChecksum: 'checksum-zw-edit',
          uti: 'public.jpeg',
          downloadUrl: 'https://cdn.test/zw-edit',
        },
      ],
    };
    cdn.files.set('https://cdn.test/zw-edit', jpegBytes(80, 8));
    const result = await archiveCounted(deps, edited);

    const keys = result.entry?.versions.map((v) => [v.kind, v.key]);
    expect(keys?.[0]).toEqual(['original', legacy]);
    const editKey = result.entry?.versions.find((v) => v.kind === 'adjusted')?.key ?? '';
    expect(editKey.startsWith(legacy.slice(0, legacy.lastIndexOf('/') + 1))).toBe(true);
    expect(editKey).toContain('IMG\u200b_0001');
    expect(cdn.opened.filter((url) => url === original.versions[0]!.downloadUrl)).toHaveLength(1);
    expect(objects.keys()).toContain(editKey);
  });
});

describe('an asset whose capture time is not a usable date', () => {
  it.each([
    ['past the largest Date', 8_640_000_000_000_001],
    ['past what rclone can represent (year 2300)', Date.UTC(2300, 0, 1)],
  ])(
    'is archived without an mtime when the time is %s (not 8640000000000.001)',
    async (_what, captureTime) => {
      const { deps, objects, serve } = setUp();
      const asset = { ...photoAsset('undated', 100), captureTime };
      serve(asset);

      const result = await archiveCounted(deps, asset);

      expect(result.outcome).toBe('archived');
      const [key] = objects.keys();
      const head = await objects.head(key!);
      expect(head?.metadata).not.toHaveProperty('mtime');
      expect(head?.modifiedTime).toBeUndefined();
    },
  );
});
