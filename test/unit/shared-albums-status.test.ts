/** What `status` says about Shared Albums: counts, and which items are Apple's reduced copies. */
import { describe, expect, it } from 'vitest';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { REDUCED_COPY_NOTE, sharedAlbumsStatus } from '#domain/shared-albums/shared-albums-status.ts';

const album = (guid: string, collection: boolean): SharedAlbum => ({
  albumguid: guid,
  name: guid,
  location: collection ? '' : 'https://p1-sharedstreams.icloud.com:443/x/sharedstreams/',
  ctag: '1',
  ownerDsid: '1',
  sharingType: 'owned',
  isPublic: false,
  ...(collection
    ? {
        collection: {
          database: 'private' as const,
          zoneName: `SharedCollection-${guid}`,
          ownerRecordName: '_o',
        },
      }
    : {}),
});

describe('sharedAlbumsStatus', () => {
  it('says every item is a reduced copy when all albums are legacy ones', () => {
    const status = sharedAlbumsStatus({
      albums: { A: { album: album('A', false), archivedCtag: '1', itemCount: 3, reducedCount: 3 } },
      revision: 1,
    });
    expect(status).toMatchObject({ items: 3, reducedItems: 3, note: REDUCED_COPY_NOTE });
  });

  it('says which albums hold reduced copies when new-generation albums keep originals', () => {
    const status = sharedAlbumsStatus({
      albums: {
        A: { album: album('A', false), archivedCtag: '1', itemCount: 3, reducedCount: 3 },
        B: { album: album('B', true), archivedCtag: '1', itemCount: 2, reducedCount: 0 },
      },
      revision: 1,
    });
    expect(status).toMatchObject({ items: 5, reducedItems: 3 });
    expect(status.note).toMatch(/^Older shared albums hold Apple's reduced copies .*; new-generation ones/);
    expect(status.list.find((a) => a.albumguid === 'B')).toMatchObject({
      generation: 'shared-collection',
      reducedItems: 0,
    });
    expect(status.list.find((a) => a.albumguid === 'A')).toMatchObject({ generation: 'legacy' });
  });
});
