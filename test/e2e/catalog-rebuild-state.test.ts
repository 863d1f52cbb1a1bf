/**
 * The catalog in the bucket and the state rebuilt from it, end to end on one machine against the
 * simulator: the catalog matches iCloud's ground truth, a favourite rewrites one shard, and after
 * the state is lost, `rebuild-state` plus a sync downloads nothing and `verify` is clean.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { CatalogRecord } from '#domain/catalog/catalog-record.ts';
import { CATALOG_PREFIX, CATALOG_SHARD_PREFIX, decodeShard } from '#domain/catalog/catalog-shard.ts';
import { SHARED_CATALOG_PREFIX } from '#domain/shared-albums/shared-catalog.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { ensureStateTable } from '#local/servers/provision.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { runCli } from '#test/helpers/run-cli.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

interface Truth {
  readonly database: 'private' | 'shared';
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly isDeleted: boolean;
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  readonly captureTime: number;
  readonly timeZoneOffsetSeconds: number;
  readonly fileName: string;
  readonly albumRecordNames: readonly string[];
  readonly versions: readonly { readonly kind: string; readonly sha256?: string; readonly width: number }[];
}

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let data: string;
let signedIn: SignedIn;

const sync = () => runLocalSync({ dataDir: data, ...signedIn, logger });
const truth = async () => (await control.library<{ assets: Truth[] }>()).assets;

/** The catalog's shards: key -> ETag and records. */
async function readCatalog() {
  const stack = await openLocalAwsStack({ dataDir: data });
  try {
    const shards = new Map<string, { etag: string; records: CatalogRecord[] }>();
    const other: string[] = [];
    for await (const object of stack.objects.list(`${CATALOG_PREFIX}/`)) {
      // The Shared Albums' own catalog lines are not the library's shards (their own tests read them).
      if (object.key.startsWith(SHARED_CATALOG_PREFIX)) continue;
      if (!object.key.startsWith(CATALOG_SHARD_PREFIX)) {
        other.push(object.key);
        continue;
      }
      const found = await stack.objects.getStream(object.key);
      const text = Buffer.concat(await found!.body.toArray()).toString('utf8');
      shards.set(object.key, { etag: object.etag, records: decodeShard(text) });
    }
    return { shards, other, records: [...shards.values()].flatMap((s) => s.records) };
  } finally {
    await stack.stop();
  }
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 24, seed: 14 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-catalog-'));
  data = join(dir, 'data');
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  await control.resetStats();
  const summary = await sync();
  expect(summary.failures).toEqual([]);
  // What the rebuild test counts: the first sync's downloads show under this name.
  expect((await control.stats()).requests['cdn']).toBeGreaterThan(0);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the catalog in the bucket', () => {
  it('holds one record per archived asset with its capture time, zone offset, flags, location, albums and hashes', async () => {
    const { records, other } = await readCatalog();
    // Photos in Recently Deleted too: archived as trashed (reliability finding 100).
    const library = await truth();

    expect(other).toEqual([]);
    expect(records.some((r) => r.albums.length > 0)).toBe(true);
    expect(records.map((r) => r.asset).sort()).toEqual(library.map((a) => a.assetRecordName).sort());
    for (const asset of library) {
      const record = records.find((r) => r.asset === asset.assetRecordName);
      expect(record).toMatchObject({
        master: asset.masterRecordName,
        status: asset.isDeleted ? 'trashed' : 'archived',
        capturedAt: asset.captureTime,
        timeZoneOffsetSeconds: asset.timeZoneOffsetSeconds,
        favorite: asset.isFavorite,
        hidden: asset.isHidden,
        recentlyDeleted: asset.isDeleted,
        location: expect.objectContaining({ latitude: expect.any(Number), longitude: expect.any(Number) }),
      });
      // A photo in Recently Deleted is in no album view, nor in the catalog's albums.
      expect(record?.albums).toEqual(asset.isDeleted ? [] : [...asset.albumRecordNames].sort());
      const original = asset.versions.find((v) => v.kind === 'original');
      expect(record?.width).toBe(original?.width);
      expect(record?.versions.find((v) => v.kind === 'original')?.sha256).toBe(original?.sha256);
    }
  });

  it('rewrites exactly one shard when one photo becomes a favourite', async () => {
    const before = await readCatalog();
    const target = (await truth()).find((a) => !a.isDeleted && !a.isFavorite && a.database === 'private');
    await control.mutate({ op: 'favorite', assetRecordName: target!.assetRecordName });

    await sync();
    const after = await readCatalog();

    const changed = [...after.shards].filter(([key, shard]) => before.shards.get(key)?.etag !== shard.etag);
    expect(changed.map(([key]) => key)).toHaveLength(1);
    expect(changed[0]?.[1].records.find((r) => r.asset === target!.assetRecordName)?.favorite).toBe(true);
  });
});

describe('icloud-s3 rebuild-state', () => {
  it('rebuilds a lost state from the bucket: the next sync downloads nothing and verify is clean', async () => {
    // The state is lost: the local DynamoDB's files are gone, the bucket stays.
    await rm(join(data, 'aws', 'dynamodb'), { recursive: true, force: true });

    const rebuilt = await runCli(['rebuild-state', '--local', data, '--json']);
    expect(rebuilt.code).toBe(0);
    const result = JSON.parse(rebuilt.stdout) as Record<string, unknown>;
    const library = await truth();
    expect(result).toMatchObject({
      status: 'ok',
      catalogRecords: library.length,
      entriesWritten: library.length,
    });

    await control.resetStats();
    const summary = await sync();
    const stats = await control.stats();
    const verify = await runCli([
      'verify',
      '--local',
      data,
      '--endpoint',
      sim.controlUrl,
      '--session-file',
      join(dir, 'session.json'),
      '--json',
    ]);

    expect(summary.assets.failed).toBe(0);
    expect(summary.versionsArchived).toBe(0);
    expect(stats.requests['cdn'] ?? 0).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, missing: [], extra: [] });
    expect(verify.code).toBe(0);
  });

  it('--aws rebuilds into the deployed stack’s empty table from its bucket (local AWS servers)', async () => {
    const stack = await openLocalAwsStack({ dataDir: data });
    try {
      const table = 'rebuilt-state';
      await ensureStateTable(stack.clients.dynamodb, table);

      const run = await runCli(
        ['rebuild-state', '--aws', '--bucket', stack.bucket, '--table', table, '--json'],
        {
          env: {
            ...process.env,
            AWS_REGION: 'us-east-1',
            // s3rver knows one key pair; the other local servers accept any.
            AWS_ACCESS_KEY_ID: 'S3RVER',
            AWS_SECRET_ACCESS_KEY: 'S3RVER',
            AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
            AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
            AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
            AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
          },
        },
      );

      expect(run.code).toBe(0);
      const rebuilt = new DynamoDbSyncStateStore({
        client: DynamoDBDocumentClient.from(stack.clients.dynamodb),
        tableName: table,
      });
      const keys = async (state: { entries(): AsyncIterable<{ versions: readonly { key: string }[] }> }) => {
        const all: string[] = [];
        for await (const entry of state.entries()) all.push(...entry.versions.map((v) => v.key));
        return all.sort();
      };
      expect(await keys(rebuilt)).toEqual(await keys(stack.state));
      expect(await rebuilt.getCounters()).toEqual(await stack.state.getCounters());
      // The Shared Albums' state too, from their catalog lines: each album in its folder with its items.
      const rebuiltShared = new DynamoDbSharedAlbumStateStore({
        client: DynamoDBDocumentClient.from(stack.clients.dynamodb),
        tableName: table,
      });
      const albums = async (store: SharedAlbumStateStore) => {
        const list = await store.loadAlbums();
        return Promise.all(
          Object.entries(list?.albums ?? {}).map(async ([guid, a]) => ({
            guid,
            folder: a.folder,
            itemCount: a.itemCount,
            keys: (await store.loadItems(guid)).map((i) => i.key).sort(),
          })),
        );
      };
      const original = await albums(stack.sharedAlbumState);
      expect(original.length).toBeGreaterThan(0);
      expect(await albums(rebuiltShared)).toEqual(original);
    } finally {
      await stack.stop();
    }
  });
});
