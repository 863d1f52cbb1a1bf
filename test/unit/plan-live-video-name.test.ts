/**
 * `LIVE_VIDEO_NAME=original`: a HEIC Live Photo's video named after its still (`IMG_0001.MOV`),
 * as apps that pair a Live Photo's halves by base name expect; `suffix` (default) keeps `_HEVC`.
 */
import { describe, expect, it } from 'vitest';
import { keyCandidates } from '#domain/archive/message-claims.ts';
import type { Asset, AssetVersion, VersionKind } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { type LiveVideoName, parseLiveVideoName } from '#domain/plan/live-video-name.ts';
import { candidateKeys } from '#domain/plan/object-key.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';

const ALL = parseVersionPolicy('default,medium,thumb');
const DAY = 'library/2024/2024-07-14';

function version(kind: VersionKind, uti: string): AssetVersion {
  return { kind, resourceField: `res${kind}Res`, size: 1000, fileChecksum: `${kind}-checksum`, uti };
}

function liveAsset(still = 'public.heic', fileName = 'IMG_0001.HEIC', edited = false): Asset {
  return {
    zone: { database: 'private', zoneName: 'PrimarySync' },
    assetRecordName: 'A-live',
    masterRecordName: 'M-live',
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName,
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    itemType: still,
    captureTime: Date.UTC(2024, 6, 14, 12, 0, 0),
    timeZoneOffsetSeconds: 0,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: ['live'],
    versions: [
      version('original', still),
      version('live', 'com.apple.quicktime-movie'),
      version('medium', 'public.jpeg'),
      version('liveMedium', 'com.apple.quicktime-movie'),
      ...(edited
        ? [version('adjusted', 'public.heic'), version('liveAdjusted', 'com.apple.quicktime-movie')]
        : []),
    ],
  };
}

function keysOf(asset: Asset, liveVideoName?: LiveVideoName): Record<string, string> {
  return Object.fromEntries(
    planVersions(asset, ALL).map((p) => [
      p.kind,
      candidateKeys(asset, p, liveVideoName === undefined ? {} : { liveVideoName })[0],
    ]),
  );
}

describe('a Live Photo video named after its still', () => {
  it('keeps `_HEVC` by default and with `suffix`', () => {
    for (const naming of [undefined, 'suffix'] as const) {
      const keys = keysOf(liveAsset('public.heic', 'IMG_0001.HEIC', true), naming);
      expect(keys.live).toBe(`${DAY}/IMG_0001_HEVC.MOV`);
      expect(keys.liveAdjusted).toBe(`${DAY}/IMG_0001-edited_HEVC.MOV`);
      expect(keys.liveMedium).toBe(`${DAY}/IMG_0001_HEVC-medium.MOV`);
    }
  });

  it('names the video `IMG_0001.MOV` and the edited one `IMG_0001-edited.MOV` with `original`', () => {
    const keys = keysOf(liveAsset('public.heic', 'IMG_0001.HEIC', true), 'original');
    expect(keys).toMatchObject({
      original: `${DAY}/IMG_0001.HEIC`,
      live: `${DAY}/IMG_0001.MOV`,
      adjusted: `${DAY}/IMG_0001-edited.HEIC`,
      liveAdjusted: `${DAY}/IMG_0001-edited.MOV`,
      medium: `${DAY}/IMG_0001-medium.JPG`,
      liveMedium: `${DAY}/IMG_0001-medium.MOV`,
    });
    expect(new Set(Object.values(keys)).size).toBe(Object.keys(keys).length);
  });

  it('leaves a JPEG still’s video `IMG_7409.MOV` under either naming', () => {
    for (const naming of ['suffix', 'original'] as const) {
      expect(keysOf(liveAsset('public.jpeg', 'IMG_7409.JPG'), naming).live).toBe(`${DAY}/IMG_7409.MOV`);
    }
  });

  it('gives the video its own name when the still is itself called `.mov` (`-live`)', () => {
    const keys = keysOf(liveAsset('public.heic', 'clip.MOV'), 'original');
    expect(keys.original).toBe(`${DAY}/clip.MOV`);
    expect(keys.live).toBe(`${DAY}/clip-live.MOV`);
  });

  it('names a video archived after its still beside the archived original, in the chosen naming', () => {
    const asset = liveAsset('public.heic', 'IMG_0042.HEIC');
    const live = planVersions(asset, ALL).find((p) => p.kind === 'live');
    if (live === undefined) throw new Error('no live planned');
    const entry = {
      versions: [{ kind: 'original', key: `${DAY}/IMG_0001_k3qz7ab.HEIC` }],
    } as unknown as ManifestEntry;
    expect(keyCandidates(asset, live, entry, 'original')[0]).toBe(`${DAY}/IMG_0001_k3qz7ab.MOV`);
    expect(keyCandidates(asset, live, entry)[0]).toBe(`${DAY}/IMG_0001_k3qz7ab_HEVC.MOV`);
  });
});

describe('parseLiveVideoName', () => {
  it('reads suffix (also unset or blank) and original', () => {
    expect(parseLiveVideoName(undefined)).toBe('suffix');
    expect(parseLiveVideoName(' ')).toBe('suffix');
    expect(parseLiveVideoName('suffix')).toBe('suffix');
    expect(parseLiveVideoName('Original')).toBe('original');
  });

  it('refuses anything else, naming the valid values', () => {
    expect(() => parseLiveVideoName('plain')).toThrow(
      /LIVE_VIDEO_NAME: "plain" is not one of suffix, original/,
    );
  });
});
