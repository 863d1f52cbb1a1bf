import { describe, expect, it } from 'vitest';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import {
  RateLimitedError,
  SessionExpiredError,
  StaleSyncTokenError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { NO_TOKEN, ScriptedCloudKit } from '#test/fixtures/scripted-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const THEIRS: ZoneRef = {
  database: 'shared',
  zoneName: 'SharedSync-AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
  ownerRecordName: '_other',
};

function setUp() {
  const cloudKit = new ScriptedCloudKit();
  const waits: number[] = [];
  const client = new CloudKitClient({
    http: cloudKit,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '12345',
    clientId: 'CLIENT-ID',
    retry: {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      policy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 5000 },
    },
  });
  return { cloudKit, client, waits };
}

describe('CloudKit requests', () => {
  it('posts to the Photos container of the right database with the sync-token parameters', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.changePages.set(NO_TOKEN, { records: [], syncToken: 'T1', moreComing: false });
    await client.changesZone(THEIRS);
    const url = new URL(cloudKit.sent[0]!.url);
    expect(url.origin + url.pathname).toBe(
      'https://p42-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/shared/changes/zone',
    );
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      getCurrentSyncToken: 'true',
      remapEnums: 'true',
      dsid: '12345',
      clientId: 'CLIENT-ID',
    });
    expect(cloudKit.sent[0]!.json['zones'][0].zoneID).toEqual({
      zoneName: THEIRS.zoneName,
      ownerRecordName: '_other',
      zoneType: 'REGULAR_CUSTOM_ZONE',
    });
  });

  it('posts zones/list without query parameters, as the peers do', async () => {
    const { cloudKit, client } = setUp();
    await client.zonesList('private');
    expect(new URL(cloudKit.sent[0]!.url).search).toBe('');
  });

  it('retries TRY_AGAIN_LATER bodies and succeeds', async () => {
    const { cloudKit, client, waits } = setUp();
    cloudKit.queued.push({
      status: 200,
      body: '{"serverErrorCode":"TRY_AGAIN_LATER","reason":"Sync zone CAS Op-Lock failed"}',
    });
    cloudKit.counts.set('X', 3);
    expect(await client.countBatch(PRIMARY, ['X'])).toEqual(new Map([['X', 3]]));
    expect(waits).toHaveLength(1);
  });

  it('honours Retry-After on 429 and gives up with RateLimitedError', async () => {
    const { cloudKit, client, waits } = setUp();
    for (let i = 0; i < 3; i++)
      cloudKit.queued.push({ status: 429, body: '', headers: { 'retry-after': '2' } });
    await expect(client.zonesList('private')).rejects.toBeInstanceOf(RateLimitedError);
    expect(waits).toEqual([2000, 2000]);
  });

  it('retries a 503 HTML page and a THROTTLED body', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.queued.push({
      status: 503,
      body: '<html>Service Unavailable</html>',
      headers: { 'content-type': 'text/html' },
    });
    cloudKit.queued.push({ status: 200, body: '{"serverErrorCode":"THROTTLED"}' });
    expect((await client.zonesList('private')).zones).toEqual([]);
  });

  it('reads an HTML body where JSON was expected as UnexpectedResponseError', async () => {
    const { cloudKit, client } = setUp();
    for (let i = 0; i < 3; i++) cloudKit.queued.push({ status: 200, body: '<html>oops</html>' });
    await expect(client.zonesList('private')).rejects.toBeInstanceOf(UnexpectedResponseError);
  });

  it('does not retry a refused token', async () => {
    const { cloudKit, client } = setUp();
    await expect(client.changesZone(PRIMARY, 'garbage')).rejects.toBeInstanceOf(StaleSyncTokenError);
    expect(cloudKit.sent).toHaveLength(1);
  });

  it('reads a BAD_REQUEST to a database token as a refused database token, not retried (finding 19)', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.queued.push({
      status: 400,
      body: '{"uuid":"u","serverErrorCode":"BAD_REQUEST","reason":"Unknown sync continuation type"}',
    });

    const refused = await client.changesDatabase('private', 'AQAAAAAAstale').catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(StaleSyncTokenError);
    expect(refused).toMatchObject({ database: 'private' });
    expect(cloudKit.sent).toHaveLength(1);
  });

  it('keeps a BAD_REQUEST to a tokenless changes/database a permanent unexpected answer', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.queued.push({
      status: 400,
      body: '{"serverErrorCode":"BAD_REQUEST","reason":"Invalid request"}',
    });
    await expect(client.changesDatabase('private')).rejects.toMatchObject({
      name: 'UnexpectedResponseError',
      permanent: true,
    });
  });

  it('maps 401 and the missing-cookie body to SessionExpiredError', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.queued.push({ status: 401, body: '' });
    await expect(client.zonesList('private')).rejects.toBeInstanceOf(SessionExpiredError);
    cloudKit.queued.push({
      status: 421,
      body: '{"reason":"Missing X-APPLE-WEBAUTH-TOKEN cookie","error":1}',
    });
    await expect(client.zonesList('private')).rejects.toBeInstanceOf(SessionExpiredError);
  });

  it('reads the indexing state', async () => {
    const { cloudKit, client } = setUp();
    cloudKit.queued.push({
      status: 200,
      body: JSON.stringify({
        records: [
          {
            recordName: '_x',
            recordType: 'CheckIndexingState',
            fields: { state: { value: 'RUNNING' }, progress: { value: 40 } },
          },
        ],
      }),
    });
    expect(await client.checkIndexingState(PRIMARY)).toEqual({ state: 'RUNNING', progress: 40 });
  });
});
