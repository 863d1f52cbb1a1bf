/**
 * The CloudKit adapter runs the AssetSource contract against the simulator, signed in as
 * `icloud-s3 login` does. Pages are small (5 records) and the simulator splits pairs at page
 * boundaries (the splitPairs quirk, S58), so cursors carry unpaired halves between instances.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CloudKitAssetSource } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { createLogger } from '#shared/logger.ts';
import type { GroundTruthAlbum, GroundTruthAsset } from '#simulator/src/library/index.ts';
import { describeAssetSourceContract, type PhotoNames } from '#test/fakes/contracts/asset-source-contract.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const PAGE_RECORDS = 5;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 12, seed: 3 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-asset-source-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openSource(): Promise<CloudKitAssetSource> {
  const session = await openIcloudSession({ ...signedIn, logger: createLogger({ level: 'SILENT' }) });
  const client = new CloudKitClient({
    http: session.http,
    ckdatabasewsUrl: () => session.ckdatabasewsUrl(),
    dsid: session.dsid,
    clientId: session.clientId,
  });
  return new CloudKitAssetSource({ client, pageSize: PAGE_RECORDS });
}

const names = (a: { assetRecordName: string; masterRecordName: string }): PhotoNames => ({
  assetRecordName: a.assetRecordName,
  masterRecordName: a.masterRecordName,
});

describeAssetSourceContract('CloudKitAssetSource against the simulator', async () => {
  await control.quirks({ reset: true, splitPairs: true });
  const expiredTokens: string[] = [];
  return {
    source: await openSource(),
    reopen: openSource,
    zone: PRIMARY,
    missingZone: { database: 'private', zoneName: 'SharedSync-00000000-0000-4000-8000-000000000000' },
    splitsPairs: true,
    libraryAssetNames: async () => {
      const { assets } = await control.library<{ assets: GroundTruthAsset[] }>();
      return assets
        .filter((a) => a.zone === PRIMARY.zoneName && a.zoneOwner === 'owner' && !a.isHidden && !a.isDeleted)
        .map((a) => a.assetRecordName);
    },
    addPhotos: async (count) =>
      (await control.mutate<{ assets: GroundTruthAsset[] }>({ op: 'add', kind: 'photo', count })).assets.map(
        names,
      ),
    trash: async ({ assetRecordName }) => {
      await control.mutate({ op: 'trash', assetRecordName });
    },
    purge: async ({ assetRecordName }) => {
      await control.mutate({ op: 'purge', assetRecordName });
    },
    expire: async (token) => {
      expiredTokens.push(token);
      await control.quirks({ expiredTokens });
    },
    // 140 new photos in one album: three contents pages of 66 members.
    longAlbum: async () => {
      await control.mutate({ op: 'create-album', name: 'Lang' });
      await control.mutate({ op: 'add', kind: 'photo', count: 140, album: 'Lang' });
      const { albums } = (await (await fetch(`${sim.controlUrl}/library/albums`)).json()) as {
        albums: GroundTruthAlbum[];
      };
      return albums.find((a) => a.name === 'Lang' && !a.deleted)!.recordName;
    },
    albumMemberNames: async (album) => {
      const { albums } = (await (await fetch(`${sim.controlUrl}/library/albums`)).json()) as {
        albums: GroundTruthAlbum[];
      };
      return albums.find((a) => a.recordName === album)!.members.map((m) => m.assetRecordName);
    },
    leaveAlbum: async (album, assetRecordName) => {
      await control.mutate({ op: 'album-remove', album, assetRecordName });
    },
  };
});
