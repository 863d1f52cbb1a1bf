/**
 * S54 in docs/protocol/simulator-contract.md#zones-and-databases: a CloudKit request without `zoneID`
 * addresses `_defaultZone`, not the caller's PrimarySync. Apple documents a zone ID's `zoneName` as
 * defaulting to `_defaultZone`, "the default zone of the current database" (CloudKit JS
 * `CloudKit.ZoneID.zoneName`, CloudKit Web Services Reference), where no Photos record lives; every
 * recorded Photos request sends a `zoneID` (spec §3.7.1). Only a query may search all zones, with
 * `zoneWide: true` (CloudKit JS `QueryResponse.zoneWide`: "If true, all zones are searched. If false,
 * only the default zone is searched"; pyicloud's generic client sends it instead of `zoneID`).
 *
 * So a client that forgets `zoneID` on `records/lookup` (URL refresh) or `records/modify` must fail
 * here as it would against Apple, not be served from PrimarySync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import {
  type ControlClient,
  controlClient,
  type SimSession,
  startTestSimulator,
} from '#test/helpers/simulator.ts';

type Asset = { assetRecordName: string; masterRecordName: string; zone: string; isDeleted: boolean };
type Json = Record<string, unknown>;

let sim: SimulatorHandle;
let control: ControlClient;
let session: SimSession;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 10 });
  control = controlClient(sim);
  session = await control.session();
});
afterAll(() => sim.stop());

async function ck(op: string, body: unknown): Promise<{ status: number; json: Json }> {
  const apple = `${session.ckdatabasewsUrl}/database/1/com.apple.photos.cloud/production/private/${op}?remapEnums=True`;
  const res = await fetch(toSimulatorUrl(apple, sim.baseUrl), {
    method: 'POST',
    headers: { Cookie: session.cookie, 'Content-Type': 'text/plain', Origin: 'https://www.icloud.com' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

async function livePrimaryAsset(): Promise<Asset> {
  const truth = await control.library<{ assets: Asset[] }>();
  return truth.assets.find((a) => a.zone === 'PrimarySync' && !a.isDeleted)!;
}

const PHOTOS_QUERY = { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' };
const masters = (json: Json) =>
  ((json.records as Json[] | undefined) ?? []).filter((r) => r.recordType === 'CPLMaster');

describe('S54: a request without zoneID addresses _defaultZone, not PrimarySync', () => {
  it('records/lookup of a PrimarySync master without zoneID answers NOT_FOUND for the name', async () => {
    const asset = await livePrimaryAsset();
    const reply = await ck('records/lookup', { records: [{ recordName: asset.masterRecordName }] });
    expect(reply.status).toBe(200);
    expect(reply.json.records).toEqual([
      { recordName: asset.masterRecordName, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' },
    ]);
  });

  it('records/query of a Photos index without zoneID is refused: _defaultZone has no such index', async () => {
    const reply = await ck('records/query', { query: PHOTOS_QUERY, resultsLimit: 4 });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ serverErrorCode: 'BAD_REQUEST', reason: 'Index has invalid data' });
    expect(masters(reply.json)).toEqual([]);
  });

  it('a batch count entry without zoneID or zoneWide is refused in its place', async () => {
    const reply = await ck('internal/records/query/batch', {
      batch: [{ resultsLimit: 1, query: { recordType: 'HyperionIndexCountLookup' } }],
    });
    expect(reply.status).toBe(200);
    expect(reply.json.batch).toEqual([{ serverErrorCode: 'BAD_REQUEST', reason: 'Index has invalid data' }]);
  });

  it('records/modify without zoneID trashes nothing and answers NOT_FOUND for the name', async () => {
    const asset = await livePrimaryAsset();
    const reply = await ck('records/modify', {
      atomic: true,
      operations: [
        {
          operationType: 'update',
          record: {
            recordName: asset.assetRecordName,
            recordType: 'CPLAsset',
            recordChangeTag: 'x',
            fields: { isDeleted: { value: 1 } },
          },
        },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.json.records).toEqual([
      { recordName: asset.assetRecordName, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' },
    ]);
    const after = await control.library<{ assets: Asset[] }>();
    expect(after.assets.find((a) => a.assetRecordName === asset.assetRecordName)!.isDeleted).toBe(false);
  });

  it('an atomic records/modify without zoneID adding to an album and trashing changes nothing', async () => {
    type Album = { recordName: string; albumType: number; sentinel: boolean };
    const { albums } = await control.call<{ albums: Album[] }>('GET', '/library/albums');
    const album = albums.find((a) => a.albumType === 0 && !a.sentinel)!;
    const truth = await control.library<{ assets: Asset[] }>();
    const asset = truth.assets.find((a) => a.zone === 'PrimarySync' && !a.isDeleted)!;
    const relation = `${asset.assetRecordName}-IN-${album.recordName}`;
    const reply = await ck('records/modify', {
      atomic: true,
      operations: [
        { operationType: 'create', record: { recordName: relation, recordType: 'CPLContainerRelation' } },
        {
          operationType: 'update',
          record: { recordName: asset.assetRecordName, fields: { isDeleted: { value: 1 } } },
        },
      ],
    });
    expect((reply.json.records as Json[]).map((r) => [r.recordName, r.serverErrorCode])).toEqual([
      [relation, 'BAD_REQUEST'],
      [asset.assetRecordName, 'NOT_FOUND'],
    ]);
    expect(await control.library()).toEqual(truth);
    expect(await control.call('GET', '/library/albums')).toEqual({ albums });
  });

  it('records/query with zoneWide: true and no zoneID searches all zones: PrimarySync photos come back', async () => {
    const reply = await ck('records/query', { query: PHOTOS_QUERY, resultsLimit: 4, zoneWide: true });
    expect(reply.status).toBe(200);
    expect(masters(reply.json).length).toBe(2);
  });

  it('zoneWide: false and no zoneID is the default zone again', async () => {
    const reply = await ck('records/query', { query: PHOTOS_QUERY, resultsLimit: 4, zoneWide: false });
    expect(reply.status).toBe(400);
  });

  it('the same calls with zoneID PrimarySync are served as before', async () => {
    const asset = await livePrimaryAsset();
    const zoneID = { zoneName: 'PrimarySync' };
    const lookup = await ck('records/lookup', { records: [{ recordName: asset.masterRecordName }], zoneID });
    expect((lookup.json.records as Json[])[0]!.fields).toBeDefined();
    const query = await ck('records/query', { query: PHOTOS_QUERY, resultsLimit: 4, zoneID });
    expect(masters(query.json).length).toBe(2);
  });
});
