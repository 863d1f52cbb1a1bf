import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import {
  type ControlClient,
  controlClient,
  type SimSession,
  startTestSimulator,
} from '#test/helpers/simulator.ts';

type Version = { kind: string; size: number; sha256?: string; fileChecksum: string };
type Asset = {
  assetRecordName: string;
  masterRecordName: string;
  zone: string;
  isDeleted: boolean;
  versions: Version[];
};

describe('CloudKit over HTTP', () => {
  let sim: SimulatorHandle;
  let control: ControlClient;
  let session: SimSession;

  beforeAll(async () => {
    sim = await startTestSimulator({ assets: 30 });
    control = controlClient(sim);
    session = await control.session();
  });
  afterAll(() => sim.stop());

  async function post<T>(op: string, body: unknown, database = 'private') {
    const apple = `${session.ckdatabasewsUrl}/database/1/com.apple.photos.cloud/production/${database}/${op}?remapEnums=True&getCurrentSyncToken=True`;
    const res = await fetch(toSimulatorUrl(apple, sim.baseUrl), {
      method: 'POST',
      headers: { Cookie: session.cookie, 'Content-Type': 'text/plain', Origin: 'https://www.icloud.com' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T, headers: res.headers };
  }

  it('lists zones, pages the library and downloads the bytes GET /library describes', async () => {
    const zones = await post<{ zones: { zoneID: { zoneName: string } }[] }>('zones/list', {});
    expect(zones.status).toBe(200);
    expect(zones.json.zones.map((z) => z.zoneID.zoneName)[0]).toBe('PrimarySync');
    const page = await post<{
      records: {
        recordType: string;
        recordName: string;
        fields: Record<string, { value: { downloadURL?: string } }>;
      }[];
    }>('records/query', {
      query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
      resultsLimit: 10,
      zoneID: { zoneName: 'PrimarySync' },
    });
    const master = page.json.records.find((r) => r.recordType === 'CPLMaster')!;
    const truth = await control.library<{ assets: Asset[] }>();
    const asset = truth.assets.find((a) => a.masterRecordName === master.recordName)!;
    const original = asset.versions.find((v) => v.kind === 'original')!;
    const download = await fetch(
      toSimulatorUrl(master.fields.resOriginalRes!.value.downloadURL!, sim.baseUrl),
    );
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(download.status).toBe(200);
    expect(bytes.length).toBe(original.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(original.sha256);
  });

  it('applies /__sim/mutate and /__sim/quirks to what CloudKit answers', async () => {
    const truth = await control.library<{ assets: Asset[] }>();
    const target = truth.assets.find((a) => a.zone === 'PrimarySync' && !a.isDeleted)!;
    const result = await control.mutate<{ changed: { recordType: string }[] }>({
      op: 'trash',
      assetRecordName: target.assetRecordName,
    });
    expect(result.changed.map((c) => c.recordType).sort()).toEqual([
      'CPLAsset',
      'CPLLibraryInfo',
      'CPLMaster',
    ]);
    const lookup = await post<{ records: { fields: Record<string, { value: unknown }> }[] }>(
      'records/lookup',
      {
        records: [{ recordName: target.assetRecordName }],
        zoneID: { zoneName: 'PrimarySync' },
      },
    );
    expect(lookup.json.records[0]!.fields.isDeleted!.value).toBe(1);
    await control.quirks({ indexingProgress: 7 });
    const state = await post<{ records: { fields: Record<string, { value: unknown }> }[] }>('records/query', {
      query: { recordType: 'CheckIndexingState' },
      zoneID: { zoneName: 'PrimarySync' },
    });
    await control.quirks({ reset: true });
    expect(state.json.records[0]!.fields.state!.value).toBe('RUNNING');
  });
});
