import { describe, expect, it } from 'vitest';
import { mapRecords } from '#adapters/icloud/records/map-records.ts';
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import {
  listingCassettes,
  recordedCloudKitCalls,
  recordedQueryRecords,
} from '#test/fixtures/recorded-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'shared', zoneName: 'SharedSync-982E4DAF-74E1-4191-9D51-EBA245AD9932' };

const assetsOf = (changes: readonly ZoneChange[]): Asset[] =>
  changes.flatMap((c) => (c.type === 'asset' ? [c.asset] : []));

function assetByMaster(cassette: string, masterRecordName: string): Asset {
  const mapped = mapRecords(recordedQueryRecords(cassette, 'CPLAssetAndMasterByAddedDate'), PRIMARY);
  const asset = assetsOf(mapped.changes).find((a) => a.masterRecordName === masterRecordName);
  if (!asset) throw new Error(`no asset for master ${masterRecordName}`);
  return asset;
}

const versionSummary = (asset: Asset) => asset.versions.map((v) => [v.kind, v.resourceField, v.size, v.uti]);

describe('recorded CloudKit responses', () => {
  it('maps every records list of every listing cassette without a problem or an unpaired half', () => {
    const cassettes = listingCassettes();
    expect(cassettes.length).toBeGreaterThanOrEqual(5);
    let lists = 0;
    for (const cassette of cassettes) {
      for (const call of recordedCloudKitCalls(cassette)) {
        const body = call.responseJson as { records?: unknown; batch?: { records: unknown }[] };
        const recordLists = body.records ? [body.records] : (body.batch ?? []).map((b) => b.records);
        for (const records of recordLists) {
          const mapped = mapRecords(records, PRIMARY);
          expect(mapped.problems, `${cassette} ${call.operation}`).toEqual([]);
          expect(mapped.unpairedMasters).toEqual([]);
          expect(mapped.changes.filter((c) => c.type === 'assetOnly')).toEqual([]);
          lists++;
        }
      }
    }
    expect(lists).toBeGreaterThan(20);
  });

  it('pairs all 100 photos of the recorded 200-record page although masters come before assets', () => {
    const mapped = mapRecords(
      recordedQueryRecords('listing_photos', 'CPLAssetAndMasterByAddedDate'),
      PRIMARY,
    );
    const assets = assetsOf(mapped.changes);
    expect(assets).toHaveLength(100);
    expect(new Set(assets.map((a) => a.fileName)).size).toBe(100);
    expect(assets.filter((a) => a.mediaType === 'video')).toHaveLength(8);
    expect(assets.filter((a) => a.subtypes.includes('live'))).toHaveLength(77);
    expect(assets.filter((a) => a.subtypes.includes('screenshot'))).toHaveLength(8);
  });

  it('maps the first recorded live photo with its file name, dates and every version', () => {
    const asset = assetByMaster('listing_photos', 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO');
    expect(asset).toMatchObject({
      assetRecordName: 'F2A23C38-0020-42FE-A273-2923ADE3CAED',
      assetChangeTag: '49lh',
      masterChangeTag: '49lb',
      fileName: 'IMG_7409.JPG',
      fileNameSource: 'filenameEnc',
      mediaType: 'photo',
      itemType: 'public.jpeg',
      captureTime: 1533021744816,
      timeZoneOffsetSeconds: 25200,
      addedTime: 1533021746602,
      isFavorite: false,
      isHidden: false,
      isDeleted: false,
      isExpunged: false,
      subtypes: ['live'],
    });
    expect(versionSummary(asset)).toEqual([
      ['original', 'resOriginalRes', 1884695, 'public.jpeg'],
      ['live', 'resOriginalVidComplRes', 3294075, 'com.apple.quicktime-movie'],
      ['liveMedium', 'resVidMedRes', 1807733, 'com.apple.quicktime-movie'],
      ['liveThumb', 'resVidSmallRes', 503598, 'com.apple.quicktime-movie'],
      ['medium', 'resJPEGMedRes', 664594, 'public.jpeg'],
      ['thumb', 'resJPEGThumbRes', 66936, 'public.jpeg'],
    ]);
    expect(asset.versions[0]).toMatchObject({
      fileChecksum: 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
      width: 4032,
      height: 3024,
    });
    expect(asset.versions[0]?.downloadUrl).toMatch(/^https:\/\/cvws\.icloud-content\.com\/B\//);
  });

  it('takes the screenshot rendering and its thumbnail from the asset, over the master', () => {
    const asset = assetByMaster('listing_photos', 'AW5453H4S5pdzJTY6ECC7Rz5te9G');
    expect(asset).toMatchObject({
      fileName: 'IMG_7388.PNG',
      adjustmentType: 'ScreenshotServices',
      subtypes: ['screenshot'],
    });
    expect(versionSummary(asset)).toEqual([
      ['original', 'resOriginalRes', 182500, 'public.png'],
      ['adjusted', 'resJPEGFullRes', 233944, 'public.jpeg'],
      ['medium', 'resJPEGMedRes', expect.any(Number), 'public.jpeg'],
      ['thumb', 'resJPEGThumbRes', 40698, 'public.jpeg'],
    ]);
  });

  it('maps the RAW original, its JPEG alternative and the adjusted rendering of the RAW+JPEG cassette', () => {
    const asset = assetByMaster('listing_photos_raw_alt_adj', 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO');
    expect(asset).toMatchObject({
      fileName: 'IMG_7409.CR2',
      itemType: 'com.canon.cr2-raw-image',
      mediaType: 'photo',
      subtypes: ['live', 'raw+jpeg'],
    });
    expect(versionSummary(asset).slice(0, 3)).toEqual([
      ['original', 'resOriginalRes', 1884695, 'com.canon.cr2-raw-image'],
      ['alternative', 'resOriginalAltRes', 503598, 'public.jpeg'],
      ['adjusted', 'resJPEGFullRes', 233944, 'public.jpeg'],
    ]);
  });

  it('keeps the forbidden characters of the bad-filename cassette for the key layout to sanitise', () => {
    const asset = assetByMaster('listing_photos_bad_filename', 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO');
    expect(asset.fileName).toBe('i/n v:a\u0000l*i?d\\p<a>t"h|.JPG');
    expect(asset.fileNameSource).toBe('filenameEnc');
  });

  it('maps a recorded video to a video with MP4 medium and thumb transcodes and no poster frames', () => {
    const asset = assetByMaster('listing_videos', 'AY+R3dhJpz0NaLm5n1dA8cdywPKa');
    expect(asset).toMatchObject({ fileName: 'IMG_7405.MOV', mediaType: 'video', subtypes: [] });
    expect(versionSummary(asset)).toEqual([
      ['original', 'resOriginalRes', 36491351, 'com.apple.quicktime-movie'],
      ['medium', 'resVidMedRes', 2875771, 'public.mpeg-4'],
      ['thumb', 'resVidSmallRes', 828228, 'public.mpeg-4'],
    ]);
  });

  it('reads Shared Library contributors and trashReason from the recorded SharedSync record', () => {
    const mapped = mapRecords(
      recordedQueryRecords('listing_photos', 'CPLAssetAndMasterByAddedDate', 'shared'),
      SHARED,
    );
    const [asset] = assetsOf(mapped.changes);
    expect(asset).toMatchObject({
      zone: SHARED,
      fileName: 'solvej dk.png',
      contributors: ['_91ac8fc0c2e697b008a586b0d9e43566'],
      trashReason: 0,
      isDeleted: false,
      timeZoneOffsetSeconds: 28800,
    });
  });

  it('maps the recorded albums, skipping the root folder and keeping slashes and umlauts', () => {
    const mapped = mapRecords(recordedQueryRecords('listing_albums', 'CPLAlbumByPositionLive'), PRIMARY);
    const albums = mapped.changes.flatMap((c) => (c.type === 'album' ? [c.album] : []));
    expect(albums).toHaveLength(16);
    expect(albums.map((a) => a.recordName)).not.toContain('----Root-Folder----');
    expect(albums.find((a) => a.recordName === '0A7632D2-07BB-4C5A-B727-052303F97480')).toEqual({
      zone: PRIMARY,
      recordName: '0A7632D2-07BB-4C5A-B727-052303F97480',
      name: 'Garage vorher/nachher',
      albumType: 0,
      position: 1280,
      isDeleted: false,
    });
    expect(albums.map((a) => a.name)).toContain('Jörg');
  });
});
