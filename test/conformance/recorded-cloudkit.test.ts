import { beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import { readRecordedJson } from '#test/helpers/recorded.ts';

/**
 * Replays the CloudKit requests of the recorded icloudpd listing cassettes against the simulator,
 * exactly as recorded (method, path, query, headers, body; the simulator's Shared Library carries
 * the zone name the requests use, so nothing is rewritten), and checks the answers against the
 * recorded ones: status, top-level keys, `moreComing`, zone types, record envelope keys, field
 * types per field name and the value types inside them. Library values (names, sizes, tokens)
 * differ: the simulator's library is not the recorded account's.
 */
const CASSETTES = [
  'listing_photos',
  'listing_photos_raw_alt_adj',
  'listing_videos',
  'listing_albums',
  'listing_photos_bad_filename',
] as const;

type Interaction = {
  request: {
    method: string;
    uri: string;
    headers: Record<string, string[]>;
    body: { json?: unknown } | null;
  };
  response: { status: number; body: { json?: unknown } | null };
};
type Json = Record<string, unknown>;

/** The Shared Library zone every recorded request names (the cassettes' placeholder). */
const RECORDED_SHARED_ZONE = 'SharedSync-00000000-1111-2222-3333-444444444444';
type CkRecord = { recordType?: string; fields?: Record<string, { value?: unknown; type?: string }> } & Json;

function load(name: string): Interaction[] {
  return (
    readRecordedJson('icloudpd', `${name}.json`) as {
      interactions: Interaction[];
    }
  ).interactions;
}

const ckInteractions = (name: string) =>
  load(name).filter((i) => /ckdatabasews\.icloud\.com/.test(i.request.uri));

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function recordsOf(body: unknown): CkRecord[] {
  const b = body as Json | undefined;
  const direct = (b?.records as CkRecord[] | undefined) ?? [];
  const batched = ((b?.batch as Json[] | undefined) ?? []).flatMap(
    (x) => (x.records as CkRecord[] | undefined) ?? [],
  );
  return [...direct, ...batched];
}

/** Field name -> {type, value kind, token keys} over every record of a type. */
function fieldShapes(records: CkRecord[]) {
  const shapes = new Map<string, Set<string>>();
  for (const r of records) {
    for (const [name, field] of Object.entries(r.fields ?? {})) {
      const value = field.value;
      const token =
        field.type === 'ASSETID' && value
          ? `:${Object.keys(value as object)
              .sort()
              .join(',')}`
          : '';
      const key = `${r.recordType}.${name}`;
      const set = shapes.get(key) ?? new Set();
      set.add(`${field.type}/${kindOf(value)}${token}`);
      shapes.set(key, set);
    }
  }
  return shapes;
}

describe('recorded CloudKit shapes (S118)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    // The Shared Library zone the recorded requests name, so they are replayed unchanged.
    ck = await openInProcessCloudKit({ seed: 2018, assets: 220, sharedZoneName: RECORDED_SHARED_ZONE });
    ck.library.quirks = { ...ck.library.quirks, cassetteShapes: true };
  });

  /** The recorded request as sent: method, path, query, headers and body, none of them rewritten. */
  async function replay(i: Interaction) {
    const url = new URL(i.request.uri);
    const path = url.pathname;
    const database = path.includes('/production/shared/') ? 'shared' : 'private';
    const operation = path.replace(/^.*\/production\/(private|shared)\//, '');
    const headers = Object.fromEntries(
      Object.entries(i.request.headers).map(([name, values]) => [name.toLowerCase(), values.join(', ')]),
    );
    // The recorded account sees the Shared Library in the shared database: a participant.
    return ck.call(operation, i.request.body?.json ?? {}, {
      database,
      who: database === 'shared' ? 'member' : 'owner',
      query: url.search.slice(1),
      path,
      method: i.request.method,
      headers,
    });
  }

  it('replays requests that name only the recorded zones, in the recorded form', () => {
    for (const name of CASSETTES) {
      for (const i of ckInteractions(name)) {
        const zones = JSON.stringify(i.request.body?.json ?? {}).match(/SharedSync-[0-9A-F-]{36}/g) ?? [];
        for (const zone of zones) expect(zone).toBe(RECORDED_SHARED_ZONE);
        expect(i.request.headers['Content-type'] ?? i.request.headers['Content-Type']).toBeDefined();
      }
    }
  });

  for (const name of CASSETTES) {
    it(`answers every CloudKit request of ${name} with the recorded status and top-level keys`, async () => {
      for (const i of ckInteractions(name)) {
        const reply = await replay(i);
        expect(reply.status, i.request.uri).toBe(i.response.status);
        if (i.request.uri.includes('records/modify')) continue; // recorded bodies are hand-edited `{}`
        const recorded = i.response.body?.json as Json;
        expect(Object.keys(reply.json as Json).sort(), i.request.uri).toEqual(Object.keys(recorded).sort());
        // Values that do not depend on the library's contents must be the recorded ones.
        if ('moreComing' in recorded) {
          expect((reply.json as Json).moreComing, i.request.uri).toBe(recorded.moreComing);
        }
        const zoneTypes = (body: unknown) =>
          ((body as Json).zones as { zoneID?: Json }[] | undefined)?.map((z) => z.zoneID?.zoneType) ?? [];
        expect(new Set(zoneTypes(reply.json)), i.request.uri).toEqual(new Set(zoneTypes(recorded)));
      }
    });

    it(`serves records of ${name} with the recorded envelope keys and field types`, async () => {
      const recorded: CkRecord[] = [];
      const simulated: CkRecord[] = [];
      for (const i of ckInteractions(name)) {
        if (i.request.uri.includes('records/modify')) continue;
        recorded.push(...recordsOf(i.response.body?.json));
        simulated.push(...recordsOf((await replay(i)).json));
      }
      const envelopes = (records: CkRecord[]) =>
        new Set(
          records.map(
            (r) =>
              `${r.recordType}:${Object.keys(r)
                .filter((k) => k !== 'expirationTime')
                .sort()
                .join(',')}`,
          ),
        );
      for (const envelope of envelopes(simulated)) expect(envelopes(recorded)).toContain(envelope);
      // Never a zoneID key Apple did not send (2018 records lack zoneType, later ones have it).
      const zoneKeys = (records: CkRecord[]) =>
        new Set(
          records.map((r) =>
            Object.keys(r.zoneID as object)
              .sort()
              .join(','),
          ),
        );
      for (const keys of zoneKeys(simulated)) {
        const fits = [...zoneKeys(recorded)].some((theirs) =>
          keys.split(',').every((key) => theirs.split(',').includes(key)),
        );
        expect(fits, keys).toBe(true);
      }
      const theirs = fieldShapes(recorded);
      for (const [field, shapes] of fieldShapes(simulated)) {
        const recordedShapes = theirs.get(field);
        if (recordedShapes) for (const shape of shapes) expect([...recordedShapes], field).toContain(shape);
      }
    });
  }

  it('covers, across its whole index, every field name the recorded private photo pages carry', async () => {
    const recorded = CASSETTES.flatMap((name) =>
      ckInteractions(name)
        .filter((i) => i.request.uri.includes('/private/records/query'))
        .flatMap((i) => recordsOf(i.response.body?.json)),
    );
    const simulated: CkRecord[] = [];
    for (let rank = 0; ; rank += 100) {
      const { json } = await ck.call('records/query', {
        query: {
          recordType: 'CPLAssetAndMasterByAddedDate',
          filterBy: [
            { fieldName: 'startRank', comparator: 'EQUALS', fieldValue: { type: 'INT64', value: rank } },
          ],
        },
        resultsLimit: 200,
        zoneID: { zoneName: 'PrimarySync' },
      });
      const records = recordsOf(json);
      if (records.length === 0) break;
      simulated.push(...records);
    }
    const names = (records: CkRecord[]) =>
      new Set(
        records
          .filter((r) => r.recordType === 'CPLMaster' || r.recordType === 'CPLAsset')
          .flatMap((r) => Object.keys(r.fields ?? {}).map((f) => `${r.recordType}.${f}`)),
      );
    const ours = names(simulated);
    const missing = [...names(recorded)].filter((f) => !ours.has(f));
    expect(missing).toEqual([]);
  });
});
