import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { describeAssetSourceContract } from '#test/fakes/contracts/asset-source-contract.ts';
import { LibraryAssetSource, libraryPhoto } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

describeAssetSourceContract('LibraryAssetSource (the double of the detection tests)', async () => {
  const source = new LibraryAssetSource({ pageSize: 4 });
  const zone = source.addZone(PRIMARY, 10, 2);
  let next = 1000;
  const find = (assetRecordName: string) => {
    const asset = zone.library.find((a) => a.assetRecordName === assetRecordName);
    if (asset === undefined) throw new Error(`no photo ${assetRecordName}`);
    return asset;
  };
  return {
    source,
    // The double keeps no state between pages: a restarted process sees the same library.
    reopen: async () => source,
    zone: PRIMARY,
    missingZone: { database: 'private', zoneName: 'SharedSync-00000000-0000-4000-8000-000000000000' },
    splitsPairs: false,
    libraryAssetNames: async () => zone.library.map((a) => a.assetRecordName),
    addPhotos: async (count) => {
      const photos = Array.from({ length: count }, () => libraryPhoto(PRIMARY, next++));
      // One photo per log page: the feed spans several pages.
      for (const asset of photos) source.change(PRIMARY.zoneName, [{ type: 'asset', asset }]);
      return photos.map(({ assetRecordName, masterRecordName }) => ({ assetRecordName, masterRecordName }));
    },
    trash: async ({ assetRecordName }) => {
      const asset = { ...find(assetRecordName), isDeleted: true };
      source.change(PRIMARY.zoneName, [{ type: 'asset', asset }]);
    },
    purge: async ({ assetRecordName, masterRecordName }) => {
      const tombstones: ZoneChange[] = [
        { type: 'tombstone', zone: PRIMARY, recordName: masterRecordName, inferredType: 'CPLMaster' },
        { type: 'tombstone', zone: PRIMARY, recordName: assetRecordName, inferredType: 'CPLAsset' },
      ];
      source.change(PRIMARY.zoneName, tombstones);
    },
    expire: async (token) => {
      zone.expired.add(token);
      source.expiredDatabaseTokens.add(token);
    },
    // The ten library photos in one album: three contents pages of four.
    longAlbum: async () => {
      const members = zone.library.map((a, position) => ({ assetRecordName: a.assetRecordName, position }));
      zone.albums.push({
        album: { zone: PRIMARY, recordName: 'LONG', name: 'Lang', albumType: 0, isDeleted: false },
        members,
      });
      return 'LONG';
    },
    albumMemberNames: async (album) =>
      (zone.albums.find((a) => a.album.recordName === album)?.members ?? []).map((m) => m.assetRecordName),
    leaveAlbum: async (album, assetRecordName) => {
      const members = zone.albums.find((a) => a.album.recordName === album)?.members ?? [];
      members.splice(
        members.findIndex((m) => m.assetRecordName === assetRecordName),
        1,
      );
    },
  };
});
