import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Asset, AssetVersion, VersionKind } from '#domain/model/asset.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import { candidateKeys, dateFolderOf, identitySuffix } from '#domain/plan/object-key.ts';
import { type PlannedVersion, planVersions } from '#domain/plan/plan-versions.ts';
import { isReservedWindowsName, MAX_SEGMENT_BYTES, utf8Length } from '#domain/plan/sanitize.ts';
import { DEFAULT_VERSION_POLICY, parseVersionPolicy } from '#domain/plan/version-policy.ts';

const ALL = parseVersionPolicy('default,medium,thumb,screenshot-render');

function version(kind: VersionKind, uti: string, fileChecksum = `${kind}-checksum`): AssetVersion {
  return { kind, resourceField: `res${kind}Res`, size: 1000, fileChecksum, uti };
}

function assetOf(overrides: Partial<Asset> = {}): Asset {
  return {
    zone: { database: 'private', zoneName: 'PrimarySync' },
    assetRecordName: 'F2A23C38-0020-42FE-A273-2923ADE3CAED',
    masterRecordName: 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName: 'IMG_0001.HEIC',
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    itemType: 'public.heic',
    captureTime: Date.UTC(2024, 6, 14, 12, 0, 0),
    timeZoneOffsetSeconds: 0,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [version('original', 'public.heic')],
    ...overrides,
  };
}

function keysOf(asset: Asset, policy = ALL): Record<string, string> {
  return Object.fromEntries(planVersions(asset, policy).map((p) => [p.kind, candidateKeys(asset, p)[0]]));
}

function plannedOf(asset: Asset, kind: VersionKind): PlannedVersion {
  const found = planVersions(asset, ALL).find((p) => p.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} planned`);
  return found;
}

describe('date folders', () => {
  it('files a photo taken at 23:30 at UTC-8 under its local date', () => {
    const captureTime = Date.UTC(2024, 6, 15, 7, 30); // 2024-07-14 23:30 in California
    expect(dateFolderOf(captureTime, -8 * 3600)).toBe('library/2024/2024-07-14');
  });

  it('files a photo taken at 00:30 at UTC+9 under its local date', () => {
    const captureTime = Date.UTC(2024, 0, 31, 15, 30); // 2024-02-01 00:30 in Tokyo
    expect(dateFolderOf(captureTime, 9 * 3600)).toBe('library/2024/2024-02-01');
  });

  it('uses UTC when the offset is unknown', () => {
    expect(dateFolderOf(Date.UTC(2024, 6, 15, 7, 30))).toBe('library/2024/2024-07-15');
  });

  it('uses UTC when the offset is implausible', () => {
    expect(dateFolderOf(Date.UTC(2024, 6, 15, 7, 30), 30 * 3600)).toBe('library/2024/2024-07-15');
  });

  it('files photos from before 1970 under their year', () => {
    expect(dateFolderOf(Date.UTC(1956, 2, 3, 10))).toBe('library/1956/1956-03-03');
  });

  it('files an unusable capture time under undated', () => {
    expect(dateFolderOf(Number.NaN)).toBe('library/undated');
    expect(dateFolderOf(Date.UTC(12000, 0, 1))).toBe('library/undated');
  });
});

describe('version names', () => {
  it('names a HEIC Live Photo video with _HEVC beside its still', () => {
    const asset = assetOf({
      versions: [version('original', 'public.heic'), version('live', 'com.apple.quicktime-movie')],
    });
    expect(keysOf(asset)).toEqual({
      original: 'library/2024/2024-07-14/IMG_0001.HEIC',
      live: 'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
    });
  });

  it('names a JPEG Live Photo video with the still stem', () => {
    const asset = assetOf({
      fileName: 'IMG_7409.JPG',
      versions: [version('original', 'public.jpeg'), version('live', 'com.apple.quicktime-movie')],
    });
    expect(keysOf(asset).live).toBe('library/2024/2024-07-14/IMG_7409.MOV');
  });

  it('names both RAW+JPEG halves by their own extension', () => {
    const asset = assetOf({
      fileName: 'IMG_0002.CR2',
      versions: [version('original', 'com.canon.cr2-raw-image'), version('alternative', 'public.jpeg')],
    });
    expect(keysOf(asset)).toEqual({
      original: 'library/2024/2024-07-14/IMG_0002.CR2',
      alternative: 'library/2024/2024-07-14/IMG_0002.JPG',
    });
  });

  it('names an edited rendition with -edited and its own extension', () => {
    const asset = assetOf({
      adjustmentType: 'com.apple.photo',
      versions: [
        version('original', 'public.heic'),
        version('live', 'com.apple.quicktime-movie'),
        version('adjusted', 'public.jpeg'),
        version('liveAdjusted', 'com.apple.quicktime-movie'),
      ],
    });
    expect(keysOf(asset)).toEqual({
      original: 'library/2024/2024-07-14/IMG_0001.HEIC',
      live: 'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
      adjusted: 'library/2024/2024-07-14/IMG_0001-edited.JPG',
      liveAdjusted: 'library/2024/2024-07-14/IMG_0001-edited.MOV',
    });
  });

  it('names a second edit with a new key', () => {
    const asset = assetOf({
      versions: [version('original', 'public.heic'), version('adjusted', 'public.jpeg')],
    });
    const [plain] = candidateKeys(asset, plannedOf(asset, 'adjusted'), { editGeneration: 2 });
    expect(plain).toBe('library/2024/2024-07-14/IMG_0001-edited-2.JPG');
  });

  it('keeps the original extension spelling for a rendition of the same type', () => {
    const asset = assetOf({
      fileName: 'photo.jpeg',
      versions: [version('original', 'public.jpeg'), version('adjusted', 'public.jpeg')],
    });
    expect(keysOf(asset).adjusted).toBe('library/2024/2024-07-14/photo-edited.jpeg');
  });

  it('names previews with -medium and -thumb', () => {
    const asset = assetOf({
      versions: [
        version('original', 'public.heic'),
        version('medium', 'public.jpeg'),
        version('thumb', 'public.jpeg'),
        version('live', 'com.apple.quicktime-movie'),
        version('liveMedium', 'com.apple.quicktime-movie'),
      ],
    });
    expect(keysOf(asset)).toMatchObject({
      medium: 'library/2024/2024-07-14/IMG_0001-medium.JPG',
      thumb: 'library/2024/2024-07-14/IMG_0001-thumb.JPG',
      liveMedium: 'library/2024/2024-07-14/IMG_0001_HEVC-medium.MOV',
    });
  });

  it('gives two versions that would share a name distinct names', () => {
    const asset = assetOf({
      fileName: 'clip.mov',
      itemType: 'com.apple.quicktime-movie',
      versions: [version('original', 'public.jpeg'), version('live', 'com.apple.quicktime-movie')],
    });
    const keys = keysOf(asset);
    expect(keys.original).toBe('library/2024/2024-07-14/clip.mov');
    expect(keys.live).toBe('library/2024/2024-07-14/clip-live.mov');
  });

  it('adds the extension from the UTI when the name has none', () => {
    expect(keysOf(assetOf({ fileName: 'IMG_0003' })).original).toBe('library/2024/2024-07-14/IMG_0003.HEIC');
  });

  it('falls back to an id-based name when nothing of the name is usable', () => {
    expect(keysOf(assetOf({ fileName: '...' })).original).toBe('library/2024/2024-07-14/AY6c_BsE0jja.HEIC');
  });

  it('prefixes a Windows device name', () => {
    expect(keysOf(assetOf({ fileName: 'CON.heic' })).original).toBe('library/2024/2024-07-14/_CON.heic');
  });

  it('keeps the identity suffix, markers and extension when cutting a long name', () => {
    const asset = assetOf({
      fileName: `${'é'.repeat(200)}.HEIC`,
      versions: [version('original', 'public.heic'), version('live', 'com.apple.quicktime-movie')],
    });
    const [, suffixed] = candidateKeys(asset, plannedOf(asset, 'live'));
    const name = suffixed.split('/').at(-1) ?? '';
    expect(utf8Length(name)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(name.endsWith(`${identitySuffix(asset.masterRecordName)}_HEVC.MOV`)).toBe(true);
  });
});

describe('collision candidates', () => {
  it('gives a suffixed photo and its live video the same suffix', () => {
    const asset = assetOf({
      versions: [version('original', 'public.heic'), version('live', 'com.apple.quicktime-movie')],
    });
    const suffix = identitySuffix(asset.masterRecordName);
    expect(candidateKeys(asset, plannedOf(asset, 'original'))[1]).toBe(
      `library/2024/2024-07-14/IMG_0001${suffix}.HEIC`,
    );
    expect(candidateKeys(asset, plannedOf(asset, 'live'))[1]).toBe(
      `library/2024/2024-07-14/IMG_0001${suffix}_HEVC.MOV`,
    );
  });

  it('uses a 7-character single-case suffix', () => {
    expect(identitySuffix('AY6c+BsE0jjaXx9tmVGJM1D2VcEO')).toMatch(/^_[a-z2-7]{7}$/u);
  });

  it('places a later sibling beside the archived original', () => {
    const asset = assetOf({
      captureTime: Date.UTC(2025, 0, 1),
      versions: [version('original', 'public.heic'), version('adjusted', 'public.jpeg')],
    });
    const [plain] = candidateKeys(asset, plannedOf(asset, 'adjusted'), {
      anchorKey: 'library/2024/2024-07-14/IMG_0001_abcdefg.HEIC',
    });
    expect(plain).toBe('library/2024/2024-07-14/IMG_0001_abcdefg-edited.JPG');
  });

  it('keeps the keys of an edit and a second edit where they always were, in both usual forms', () => {
    const asset = assetOf({
      versions: [version('original', 'public.heic'), version('adjusted', 'public.jpeg')],
    });
    const suffix = identitySuffix(asset.masterRecordName);
    const edit = plannedOf(asset, 'adjusted');
    expect(candidateKeys(asset, edit, { editGeneration: 1 }).slice(0, 2)).toEqual([
      'library/2024/2024-07-14/IMG_0001-edited.JPG',
      `library/2024/2024-07-14/IMG_0001${suffix}-edited.JPG`,
    ]);
    expect(candidateKeys(asset, edit, { editGeneration: 2 }).slice(0, 2)).toEqual([
      'library/2024/2024-07-14/IMG_0001-edited-2.JPG',
      `library/2024/2024-07-14/IMG_0001${suffix}-edited-2.JPG`,
    ]);
  });

  it('offers last a key named by the object itself, distinct for every edit of one master', () => {
    // iOS Duplicates share the master, so both usual candidates of their first edits are the same two keys.
    const edits = ['W', 'V', 'U', 'T'].map((checksum) => {
      const asset = assetOf({
        assetRecordName: `dup-${checksum}`,
        versions: [version('original', 'public.heic'), version('adjusted', 'public.jpeg', checksum)],
      });
      const planned = plannedOf(asset, 'adjusted');
      const keys = candidateKeys(asset, planned, { editGeneration: 1 });
      expect(keys[2]).toBe(`library/2024/2024-07-14/IMG_0001${identitySuffix(planned.objectId)}-edited.JPG`);
      return keys;
    });
    const own = edits.map((keys) => foldKey(keys[2] ?? ''));
    expect(new Set(own).size).toBe(edits.length);
    for (const keys of edits) expect(own).not.toContain(foldKey(keys[1]));
  });

  it('keeps the object’s own suffix and the edit marker when cutting a long name', () => {
    const asset = assetOf({
      fileName: `${'é'.repeat(200)}.HEIC`,
      versions: [version('original', 'public.heic'), version('adjusted', 'public.jpeg')],
    });
    const planned = plannedOf(asset, 'adjusted');
    const own = candidateKeys(asset, planned, { editGeneration: 3 })[2] ?? '';
    const name = own.split('/').at(-1) ?? '';
    expect(utf8Length(name)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(name.endsWith(`${identitySuffix(planned.objectId)}-edited-3.JPG`)).toBe(true);
    expect(own.normalize('NFC')).toBe(own);
  });

  it('gives distinct assets with identical names distinct suffixed keys, even case-insensitively', () => {
    const recordName = fc.string({
      minLength: 28,
      maxLength: 28,
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(recordName, {
          minLength: 2,
          maxLength: 20,
          comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
        }),
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        (masters, fileName) => {
          const keys = masters.map((masterRecordName) => {
            const asset = assetOf({ masterRecordName, fileName });
            return foldKey(candidateKeys(asset, plannedOf(asset, 'original'))[1]);
          });
          expect(new Set(keys).size).toBe(masters.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('builds safe, deterministic keys for any file name', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: -50_000, max: 50_000 }),
        (fileName, offsetMinutes) => {
          const asset = assetOf({
            fileName,
            timeZoneOffsetSeconds: offsetMinutes * 60,
            versions: [
              version('original', 'public.heic'),
              version('live', 'com.apple.quicktime-movie'),
              version('adjusted', 'public.jpeg'),
              version('alternative', 'public.heic', 'alt'),
            ],
          });
          const all: string[] = [];
          for (const planned of planVersions(asset, DEFAULT_VERSION_POLICY)) {
            const keys = candidateKeys(asset, planned);
            expect(candidateKeys(asset, planned)).toEqual(keys);
            for (const key of keys) {
              expect(key.normalize('NFC')).toBe(key);
              expect(key).not.toMatch(/\/\/|^\/|\/$/u);
              for (const segment of key.split('/')) {
                expect(utf8Length(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
                expect(segment).not.toMatch(/^\.{1,2}$|^\s|[\s.]$|[<>:"\\|?*\u0000-\u001f\u007f-\u009f]/u);
                expect(isReservedWindowsName(segment)).toBe(false);
              }
              all.push(foldKey(key));
            }
          }
          // Siblings never collide with each other, in either form.
          expect(new Set(all).size).toBe(all.length);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('foldKey', () => {
  it('folds case and normalisation', () => {
    expect(foldKey('library/IMG_1.JPG')).toBe(foldKey('library/img_1.jpg'));
    expect(foldKey('Cafe\u0301.JPG')).toBe(foldKey('CAFÉ.jpg'));
  });

  it('folds sharp s with ss', () => {
    expect(foldKey('Straße.JPG')).toBe(foldKey('STRASSE.jpg'));
  });
});
