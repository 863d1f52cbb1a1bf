import { describe, expect, it } from 'vitest';
import { encodeWorkMessage, parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import {
  BYTES_PER_MESSAGE,
  ITEMS_PER_MESSAGE,
  toWorkItem,
  toWorkMessages,
} from '#domain/detect/work-batches.ts';
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const CONTEXT = { runId: 'run-7', issuedAt: 1_750_000_000_000 };

function asset(n: number): Asset {
  return {
    zone: ZONE,
    assetRecordName: `A${n}`,
    masterRecordName: `M${n}`,
    assetChangeTag: 'a',
    masterChangeTag: 'm',
    fileName: `IMG_${n}.JPG`,
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    captureTime: 1_700_000_000_000,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [
      {
        kind: 'original',
        resourceField: 'resOriginalRes',
        size: 5,
        fileChecksum: `c${n}`,
        uti: 'public.jpeg',
        downloadUrl: `https://cvws.icloud-content.com/B/${n}`,
      },
    ],
  };
}

const assetChange = (n: number): ZoneChange => ({ type: 'asset', asset: asset(n) });
const album: ZoneChange = {
  type: 'album',
  album: { zone: ZONE, recordName: 'AL1', name: 'Trip', albumType: 0, isDeleted: false },
};

describe('work items', () => {
  it('carries an asset, an asset-only change and a membership as they are', () => {
    const assetOnly: ZoneChange = {
      type: 'assetOnly',
      change: {
        zone: ZONE,
        assetRecordName: 'A1',
        masterRecordName: 'M1',
        assetChangeTag: 'b',
        isFavorite: true,
        isHidden: false,
        isDeleted: false,
        isExpunged: false,
        versions: [],
      },
    };
    const membership: ZoneChange = {
      type: 'albumMembership',
      zone: ZONE,
      assetRecordName: 'A1',
      albumRecordName: 'AL1',
      present: true,
    };

    expect(toWorkItem(assetChange(1))).toEqual({ type: 'asset', asset: asset(1) });
    expect(toWorkItem(assetOnly)).toEqual({ type: 'assetOnly', change: assetOnly.change });
    expect(toWorkItem(membership)).toEqual({
      type: 'albumMembership',
      zone: ZONE,
      assetRecordName: 'A1',
      albumRecordName: 'AL1',
      present: true,
    });
  });

  it('leaves out album records, which the archive does not act on', () => {
    expect(toWorkItem(album)).toBeUndefined();
  });

  it('turns a removed album relation into a membership removal, not a purge', () => {
    const item = toWorkItem({
      type: 'tombstone',
      zone: ZONE,
      recordName: 'ASSET-1-IN-ALBUM-2',
      inferredType: 'CPLContainerRelation',
    });
    expect(item).toEqual({
      type: 'albumMembership',
      zone: ZONE,
      assetRecordName: 'ASSET-1',
      albumRecordName: 'ALBUM-2',
      present: false,
    });
  });

  it('keeps a purge of an asset or a master as a tombstone', () => {
    for (const inferredType of ['CPLAsset', 'CPLMaster', 'unknown'] as const) {
      expect(toWorkItem({ type: 'tombstone', zone: ZONE, recordName: 'X-IN-Y', inferredType })).toEqual({
        type: 'tombstone',
        zone: ZONE,
        recordName: 'X-IN-Y',
        inferredType,
      });
    }
  });

  it('keeps a relation tombstone whose name it cannot read as a tombstone', () => {
    expect(
      toWorkItem({
        type: 'tombstone',
        zone: ZONE,
        recordName: 'no-relation',
        inferredType: 'CPLContainerRelation',
      }),
    ).toMatchObject({ type: 'tombstone', recordName: 'no-relation' });
  });
});

describe('work messages', () => {
  it('packs items a few per message, in order, every one exactly once', () => {
    const changes = Array.from({ length: 2 * ITEMS_PER_MESSAGE + 3 }, (_, i) => assetChange(i));

    const messages = toWorkMessages(changes, CONTEXT);

    expect(messages.map((m) => m.items.length)).toEqual([ITEMS_PER_MESSAGE, ITEMS_PER_MESSAGE, 3]);
    expect(
      messages.flatMap((m) => m.items.map((i) => (i.type === 'asset' ? i.asset.assetRecordName : ''))),
    ).toEqual(changes.map((_, i) => `A${i}`));
  });

  it('packs by the bytes the items download: a few large videos per message, a larger one alone', () => {
    const sized = (n: number, size: number): ZoneChange => {
      const a = asset(n);
      return { type: 'asset', asset: { ...a, versions: a.versions.map((v) => ({ ...v, size })) } };
    };
    const video = BYTES_PER_MESSAGE / 4;
    const changes = [
      ...Array.from({ length: 5 }, (_, i) => sized(i, video)),
      sized(5, 2 * BYTES_PER_MESSAGE),
      sized(6, 1000),
      sized(7, 1000),
    ];

    const messages = toWorkMessages(changes, CONTEXT);

    // Four quarters fill a message; the fifth starts the next, the huge one goes alone, photos follow it.
    expect(messages.map((m) => m.items.length)).toEqual([4, 1, 1, 2]);
    expect(
      messages.flatMap((m) => m.items.map((i) => (i.type === 'asset' ? i.asset.assetRecordName : ''))),
    ).toEqual(changes.map((_, i) => `A${i}`));
  });

  it('stamps each message with the version, the run and when the URLs were issued', () => {
    const [message] = toWorkMessages([assetChange(1)], CONTEXT);
    expect(message).toMatchObject({ v: WORK_MESSAGE_VERSION, runId: 'run-7', issuedAt: CONTEXT.issuedAt });
  });

  it('makes no message for a page without work', () => {
    expect(toWorkMessages([], CONTEXT)).toEqual([]);
    expect(toWorkMessages([album], CONTEXT)).toEqual([]);
  });

  it('does not count skipped album records towards a message', () => {
    const changes = [album, ...Array.from({ length: ITEMS_PER_MESSAGE }, (_, i) => assetChange(i)), album];
    expect(toWorkMessages(changes, CONTEXT).map((m) => m.items.length)).toEqual([ITEMS_PER_MESSAGE]);
  });

  it('produces messages the strict work-message parser accepts unchanged', () => {
    const messages = toWorkMessages(
      [
        assetChange(1),
        { type: 'tombstone', zone: ZONE, recordName: 'A2-IN-AL1', inferredType: 'CPLContainerRelation' },
        { type: 'tombstone', zone: ZONE, recordName: 'M3', inferredType: 'CPLMaster' },
      ],
      CONTEXT,
    );
    for (const message of messages) expect(parseWorkMessage(JSON.stringify(message))).toEqual(message);
  });
});

describe('work item size (issue 12: at most 1 KB an item)', () => {
  /** A signed URL of the length Apple's have (docs/protocol/cdn.md#url-shape: about 390 characters). */
  const signedUrl = (seed: string) =>
    `https://cvws.icloud-content.com/B/${seed.padEnd(56, 'A')}/\${f}?o=A${'o'.repeat(43)}&v=1&x=3&a=B${'a'.repeat(42)}&e=1765000000&k=${'k'.repeat(22)}&fl=&r=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}-1&ckc=com.apple.photos.cloud&ckz=PrimarySync&y=1&p=10&s=${'s'.repeat(27)}`;
  /** A photo as CloudKit lists it: its original and the two derivatives every photo has. */
  const photo = (): Asset => ({
    ...asset(1),
    assetRecordName: '9C1D0E2F-3A4B-4C5D-8E6F-708192A3B4C5',
    masterRecordName: 'AXxFpCuYl1Cw8gk6HzUqLbq8l3Sm',
    assetChangeTag: 'mbe3g0xp',
    masterChangeTag: 'mbe3g0xo',
    fileName: 'IMG_4031.HEIC',
    captureTime: 1_700_000_000_000,
    timeZoneOffsetSeconds: 3600,
    addedTime: 1_700_000_100_000,
    versions: (
      [
        ['original', 'resOriginalRes', 'public.heic', 1_612_345],
        ['medium', 'resJPEGMedRes', 'public.jpeg', 204_800],
        ['thumb', 'resJPEGThumbRes', 'public.jpeg', 40_960],
      ] as const
    ).map(([kind, resourceField, uti, size]) => ({
      kind,
      resourceField,
      size,
      fileChecksum: `${kind.padEnd(27, 'x')}=`,
      uti,
      downloadUrl: signedUrl(kind),
      width: 4032,
      height: 3024,
    })),
  });

  it('leaves out of an asset item the versions the version policy never archives', () => {
    const [message] = toWorkMessages([{ type: 'asset', asset: photo() }], {
      ...CONTEXT,
      versionPolicy: DEFAULT_VERSION_POLICY,
    });
    const item = message?.items[0];
    expect(item?.type === 'asset' && item.asset.versions.map((v) => v.kind)).toEqual(['original']);
    expect(planVersions(photo(), DEFAULT_VERSION_POLICY).map((p) => p.kind)).toEqual(['original']);
  });

  it('keeps a plain photo under 1 KB on the wire under the default policy', () => {
    const [message] = toWorkMessages([{ type: 'asset', asset: photo() }], {
      ...CONTEXT,
      versionPolicy: DEFAULT_VERSION_POLICY,
    });
    if (message === undefined) throw new Error('no message');
    const body = encodeWorkMessage(message);
    const [onTheWire] = (JSON.parse(body) as { items: unknown[] }).items;
    expect(Buffer.byteLength(JSON.stringify(onTheWire), 'utf8')).toBeLessThanOrEqual(1024);
    expect(parseWorkMessage(body)).toEqual(message);
  });
});
