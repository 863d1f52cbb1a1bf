/**
 * Issue 12's first goal, pinned: the requests a download worker makes to DynamoDB and S3 per
 * archived asset, besides the object's PUT, over the local servers (dynalite, s3rver) with the
 * real adapters. A change that adds a read or a write per asset fails here, not in a benchmark.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { ITEMS_PER_MESSAGE } from '#domain/detect/work-batches.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

/** Counts every command a client sends, by name (SDK middleware: nothing else is touched). */
type Handler = (args: unknown) => Promise<unknown>;
interface InitializeStack {
  add(
    middleware: (next: Handler, context: { readonly commandName: string }) => Handler,
    options: { readonly step: 'initialize'; readonly name: string },
  ): void;
}

function countCommands(client: DynamoDBClient | S3Client): Map<string, number> {
  const sent = new Map<string, number>();
  (client.middlewareStack as unknown as InitializeStack).add(
    (next, context) => async (args) => {
      sent.set(context.commandName, (sent.get(context.commandName) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return sent;
}

async function setUp() {
  const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
  const s3 = new S3Client(local.aws.clientConfig.s3);
  const dynamoSent = countCommands(dynamodb);
  const s3Sent = countCommands(s3);
  const tableName = await local.createTable();
  const state = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
  const objects = new S3ObjectStore({
    client: s3,
    bucket: await local.createBucket(),
    partSize: MIN_PART_SIZE,
    queueSize: 2,
  });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => Date.now(),
    // The counts below are of one message's batch: a loaded machine must not stretch its
    // transfers past the production wait and split the entries' write in two (the wait only
    // bounds how long a finished item waits for the others; the batch goes once all are in).
    entryBatchWaitMs: 60_000,
  };
  /** A work message of `count` new photos the CDN serves. */
  const message = (count: number): WorkMessage => ({
    v: WORK_MESSAGE_VERSION,
    runId: 'run-1',
    issuedAt: Date.now(),
    items: Array.from({ length: count }, (_, i) => {
      const asset = photoAsset(`photo-${i}`, 2_000);
      cdn.files.set(`https://cdn.test/photo-${i}`, jpegBytes(2_000, i));
      return { type: 'asset' as const, asset };
    }),
  });
  const counted = () => {
    const all = { ...Object.fromEntries(dynamoSent), ...Object.fromEntries(s3Sent) };
    dynamoSent.clear();
    s3Sent.clear();
    return all;
  };
  return { deps, state, message, counted, dynamodb, tableName, objects };
}

describe('requests per archived asset (issue 12: at most 2 besides the CDN GET and the S3 PUT)', () => {
  it('archives a message of ten new photos with one batched read, two batched writes, three transactions and one update: no write of its own per photo', async () => {
    const { deps, state, message, counted } = await setUp();
    const work = message(10);

    const result = await processWorkMessage(deps, work);
    await state.flush();

    expect(result.archived).toBe(10);
    expect(counted()).toEqual({
      // the message's manifest entries (the counts it started are checked against their markers
      // by the write to the totals, not read first)
      BatchGetItemCommand: 1,
      // its new assets as users of their masters; at the flush, the markers of the settled counts
      BatchWriteItemCommand: 2,
      // the photos' key claims with their leases and counts (before the transfers); their
      // manifest entries, each under its revision condition (once the transfers are done); the
      // totals once for the message, conditioned on its counts' markers' absence
      TransactWriteItemsCommand: 3,
      UpdateItemCommand: 1, // the flush that drops the settled nonces
      PutObjectCommand: 10, // the bytes (not counted by the goal)
    });
    expect(await state.getCounters()).toEqual({ objects: 10, bytes: 20_000 });
  });

  it('archives a full message of 25 small photos with as many requests of its own as a message of ten', async () => {
    const { deps, state, message, counted } = await setUp();
    const work = message(ITEMS_PER_MESSAGE);

    const result = await processWorkMessage(deps, work);
    await state.flush();

    expect(ITEMS_PER_MESSAGE).toBe(25);
    expect(result.archived).toBe(25);
    expect(counted()).toEqual({
      BatchGetItemCommand: 1, // the message's manifest entries
      // its 25 new assets as users of their masters; the 25 markers, written as soon as they are full
      BatchWriteItemCommand: 2,
      TransactWriteItemsCommand: 3, // the 25 key claims; the 25 entries; the totals once
      UpdateItemCommand: 1, // the nonces dropped
      PutObjectCommand: 25, // the bytes (not counted by the goal)
    });
    expect(await state.getCounters()).toEqual({ objects: 25, bytes: 50_000 });
  });

  it('finds the objects an iOS Duplicate shares with its photo by their recorded keys, however often the photo was edited, and stores nothing', async () => {
    const { deps, state, counted } = await setUp();
    const cdn = deps.downloader as ScriptedCdn;
    const edit = (checksum: string) => ({
      kind: 'adjusted' as const,
      resourceField: 'resJPEGFullRes',
      size: 1_000,
      fileChecksum: checksum,
      uti: 'public.jpeg',
      downloadUrl: `https://cdn.test/${checksum}`,
    });
    /**
     * Archives `name` with `edits`, then an iOS Duplicate of it: the duplicate's requests. Without
     * `recorded`, the photo's objects lose their recorded keys first (archived before they were
     * recorded).
     */
    const duplicateOf = async (name: string, edits: string[], recorded = true) => {
      const photo = photoAsset(name, 2_000);
      cdn.files.set(`https://cdn.test/${name}`, jpegBytes(2_000, 1));
      for (const c of edits) cdn.files.set(`https://cdn.test/${c}`, jpegBytes(1_000, c.charCodeAt(0)));
      const withEdit = (c: string) => [...photo.versions, edit(c)];
      for (const [i, c] of edits.entries())
        await archiveCounted(deps, { ...photo, assetChangeTag: `a${i}`, versions: withEdit(c) });
      if (!recorded)
        for (const v of (await state.getEntry(photo))?.versions ?? [])
          await state.forgetObjectKey(objectIdOf(photo.masterRecordName, v.kind, v.fileChecksum), v.key);
      counted();
      const last = edits.at(-1) ?? '';
      const copy = { ...photo, assetRecordName: `${photo.assetRecordName}-dup`, versions: withEdit(last) };
      expect((await archiveCounted(deps, copy)).versionsArchived).toBe(0);
      return counted();
    };

    const once = await duplicateOf('once', ['X1']);
    const twice = await duplicateOf('twice', ['X2', 'Y2']);
    const onceBefore = await duplicateOf('once-before', ['X3'], false);
    const twiceBefore = await duplicateOf('twice-before', ['X4', 'Y4'], false);

    // The entry and the recorded keys in one read; each object's claim at its recorded key (no
    // write of its key), the adoption's HEAD: the second edit's key is found as the first's.
    expect(twice).toEqual(once);
    expect(once).toMatchObject({ BatchGetItemCommand: 2, UpdateItemCommand: 2, HeadObjectCommand: 2 });
    expect(once['TransactWriteItemsCommand']).toBeUndefined();
    // Objects archived before: each candidate claimed alone is refused (the claim and its key
    // recorded in one write), claimed as before, and its key recorded (one PutItem each).
    expect(onceBefore).toEqual({
      ...once,
      TransactWriteItemsCommand: 2,
      PutItemCommand: (once['PutItemCommand'] ?? 0) + 2,
    });
    // The first edit's key refused to another edit of the master (the claim and its read back),
    // the query of the master's users, their entries (finding 29): four requests more.
    expect(twiceBefore).toEqual({
      ...onceBefore,
      UpdateItemCommand: (onceBefore['UpdateItemCommand'] ?? 0) + 1,
      GetItemCommand: (onceBefore['GetItemCommand'] ?? 0) + 1,
      QueryCommand: (onceBefore['QueryCommand'] ?? 0) + 1,
      BatchGetItemCommand: (onceBefore['BatchGetItemCommand'] ?? 0) + 1,
    });
    expect(once['PutObjectCommand']).toBeUndefined();
  });

  it('settles the counts of a batch of three messages in two marker writes: 25, then the rest at the flush', async () => {
    const { deps, state, message, counted } = await setUp();
    const messages = [message(10), message(10), message(10)].map((m, i) => ({
      ...m,
      items: m.items.map((item) =>
        item.type === 'asset'
          ? {
              ...item,
              asset: {
                ...item.asset,
                assetRecordName: `${item.asset.assetRecordName}-m${i}`,
                masterRecordName: `${item.asset.masterRecordName}-m${i}`,
              },
            }
          : item,
      ),
    }));

    await Promise.all(messages.map((m) => processWorkMessage(deps, m)));
    const beforeFlush = counted()['BatchWriteItemCommand'];
    await state.flush();

    expect(beforeFlush).toBe(3 + 1); // the three messages' master users, one full batch of markers
    expect(counted()['BatchWriteItemCommand']).toBe(1); // the other 5 markers
    expect(await state.getCounters()).toEqual({ objects: 30, bytes: 60_000 });
  });

  it("writes the markers of a message's counts with the next message's users: three messages in a row, four batched writes", async () => {
    const { deps, state, message, counted } = await setUp();
    const messages = [message(10), message(10), message(10)].map((m, i) => ({
      ...m,
      items: m.items.map((item) =>
        item.type === 'asset'
          ? {
              ...item,
              asset: {
                ...item.asset,
                assetRecordName: `${item.asset.assetRecordName}-m${i}`,
                masterRecordName: `${item.asset.masterRecordName}-m${i}`,
              },
            }
          : item,
      ),
    }));

    for (const m of messages) await processWorkMessage(deps, m);
    const beforeFlush = counted()['BatchWriteItemCommand'];
    await state.flush();

    // Each message's users; the second and the third carry the markers of the message before.
    expect(beforeFlush).toBe(3);
    expect(counted()['BatchWriteItemCommand']).toBe(1); // the last message's markers
    expect(await state.getCounters()).toEqual({ objects: 30, bytes: 60_000 });
    // Every count settled: a redelivery of the first message finds its markers (reads, no write).
    await processWorkMessage(deps, { ...messages[0]!, issuedAt: messages[0]!.issuedAt - 1 });
    const writes = Object.keys(counted()).filter((command) => !/Get|Query/.test(command));
    expect(writes).toEqual([]);
    expect(await state.getCounters()).toEqual({ objects: 30, bytes: 60_000 });
  });

  it('drops the settled nonces of full messages in the next message’s write to the totals: three in a row, one drop at the flush', async () => {
    const { deps, state, message, dynamodb, tableName } = await setUp();
    let totalsWrites = 0;
    (dynamodb.middlewareStack as unknown as InitializeStack).add(
      (next, context) => async (args) => {
        const key = (args as { input?: { Key?: { pk?: unknown } } }).input?.Key?.pk;
        const pk = typeof key === 'object' && key !== null && 'S' in key ? key.S : key;
        const items = (
          args as { input?: { TransactItems?: { Update?: { Key?: { pk?: { S?: string } } } }[] } }
        ).input?.TransactItems;
        const inTransaction = items?.some((item) => item.Update?.Key?.pk?.S === 'counters') ?? false;
        if ((context.commandName === 'UpdateItemCommand' && pk === 'counters') || inTransaction)
          totalsWrites++;
        return next(args);
      },
      { step: 'initialize', name: 'countTotalsWrites' },
    );
    const messages = [0, 1, 2].map((i) => {
      const m = message(ITEMS_PER_MESSAGE);
      return {
        ...m,
        items: m.items.map((item) =>
          item.type === 'asset'
            ? {
                ...item,
                asset: {
                  ...item.asset,
                  assetRecordName: `${item.asset.assetRecordName}-m${i}`,
                  masterRecordName: `${item.asset.masterRecordName}-m${i}`,
                },
              }
            : item,
        ),
      };
    });

    for (const m of messages) await processWorkMessage(deps, m);
    await state.flush();

    // Per message the totals (the second and the third drop the nonces of the message before,
    // their markers written); the flush drops the last message's (before: 75 nonces, two drops).
    expect(totalsWrites).toBe(3 + 1);
    expect(await state.getCounters()).toEqual({ objects: 75, bytes: 150_000 });
    // Every nonce gone from the counters item once its marker was written.
    const { Item } = await local.documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'counters', sk: 'archive' } }),
    );
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('applied_'))).toEqual([]);
  });

  it('archives every photo of a message whose transactions are cancelled for one entry and one key: those take the per-item path, the others go again', async () => {
    const { deps, state, message, counted, dynamodb, tableName } = await setUp();
    const work = message(10);
    const asset = (i: number) => {
      const item = work.items[i];
      if (item?.type !== 'asset') throw new Error('unreachable');
      return item.asset;
    };
    // Another object holds photo-3's plain name already (a name twin): its claim goes suffixed.
    const twin = await archiveCounted(deps, {
      ...photoAsset('photo-3', 2_000),
      masterRecordName: 'master-twin',
      assetRecordName: 'asset-twin',
    });
    const twinKey = twin.entry?.versions[0]?.key;
    // Another message records photo-6 in an album between this one's read and its entries' write.
    const other = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
    let raced = false;
    const racing = {
      ...deps,
      state: new Proxy(state, {
        get(target, property, receiver) {
          if (property === 'putEntries' && !raced)
            return async (writes: Parameters<DynamoDbSyncStateStore['putEntries']>[0]) => {
              raced = true;
              await other.putEntry(
                {
                  zone: asset(6).zone,
                  assetRecordName: asset(6).assetRecordName,
                  masterRecordName: asset(6).masterRecordName,
                  assetChangeTag: '',
                  status: 'pending',
                  flags: { isFavorite: false, isHidden: false, isDeleted: false },
                  albums: ['album-1'],
                  versions: [],
                  deletions: [],
                },
                0,
              );
              return target.putEntries(writes);
            };
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    };
    counted();

    const result = await processWorkMessage(racing, work);
    await state.flush();

    expect(result).toMatchObject({ archived: 10, failed: 0 });
    // Each batch refused once (the twin's key; photo-6's entry), then the nine others again; the
    // totals once; photo-3's suffixed key, claimed with its object's recorded key in one write.
    expect(counted()['TransactWriteItemsCommand']).toBe(4 + 1 + 1);
    const entries = await Promise.all([...Array(10).keys()].map((i) => state.getEntry(asset(i))));
    expect(entries.map((e) => e?.status)).toEqual(Array(10).fill('archived'));
    expect(entries[6]).toMatchObject({ albums: ['album-1'], revision: 2 });
    expect(entries[6]?.versions).toHaveLength(1);
    const keys = entries.map((e) => e?.versions[0]?.key);
    expect(new Set(keys).size).toBe(10);
    expect(keys[3]).not.toBe(twinKey); // suffixed
    expect((deps.downloader as ScriptedCdn).opened).toHaveLength(1 + 10); // the twin's, one per photo
    expect(await state.getCounters()).toEqual({ objects: 11, bytes: 22_000 });
  });

  it('skips a redelivered message with two batched reads and no write', async () => {
    const { deps, state, message, counted } = await setUp();
    const work = message(10);
    await processWorkMessage(deps, work);
    await state.flush(); // the end of the batch
    counted();

    // The same message again (an older one is counted in its own message: docs/reliability.md finding 52).
    const again = await processWorkMessage(deps, work);

    expect(again.unchanged).toBe(0);
    // The entries; then, as the first delivery may have died before counting its objects, their
    // key claims: counts this process applied (another one reads their markers too, one more read).
    expect(counted()).toEqual({ BatchGetItemCommand: 2 });
    expect(await state.getCounters()).toEqual({ objects: 10, bytes: 20_000 });
  });

  it('counts the objects of a delivery that died after its manifest writes once, on the redelivery', async () => {
    const { deps, state, message } = await setUp();
    const work = message(10);
    const dying = {
      ...deps,
      state: new Proxy(state, {
        get(target, property, receiver) {
          if (property === 'countObjects') return async () => Promise.reject(new Error('the process died'));
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    };
    await expect(processWorkMessage(dying, work)).rejects.toThrow('the process died');
    expect(await state.getCounters()).toEqual({ objects: 0, bytes: 0 });

    const again = await processWorkMessage(deps, work);
    await processWorkMessage(deps, work);
    await state.flush();

    expect(again.unchanged).toBe(0);
    expect(await state.getCounters()).toEqual({ objects: 10, bytes: 20_000 });
  });
});

describe('a master archived by two workers at once, over dynalite (counts kept on the key claim)', () => {
  it('stores and counts the object once; the second worker adopts it', async () => {
    const { deps, state } = await setUp();
    const mine = photoAsset('shared', 2_000);
    const sharedCopy = {
      ...mine,
      zone: { database: 'private' as const, zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444' },
      assetRecordName: 'asset-shared-in-library',
    };
    const cdn = deps.downloader as ScriptedCdn;
    cdn.files.set('https://cdn.test/shared', jpegBytes(2_000, 7));
    const fast = { ...deps, sleep: (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5)) };

    const [a, b] = await Promise.all([archiveCounted(fast, mine), archiveCounted(fast, sharedCopy)]);
    await state.flush();

    expect(cdn.opened).toHaveLength(1);
    expect(a.versionsArchived + b.versionsArchived).toBe(1);
    expect(b.entry?.versions.map((v) => v.key)).toEqual(a.entry?.versions.map((v) => v.key));
    expect(await state.getCounters()).toEqual({ objects: 1, bytes: 2_000 });
  });
});

describe('requests per Shared Album item, over dynalite and s3rver', () => {
  const album: SharedAlbum = {
    albumguid: 'A1',
    name: 'Family',
    location: 'https://p101-sharedstreams.icloud.com:443/A1/sharedstreams/',
    ctag: '1',
    ownerDsid: '100',
    sharingType: 'subscribed',
    isPublic: false,
  };
  const item = (guid: string): SharedItem => ({
    assetGuid: guid,
    masterRecordName: `M-${guid}`,
    changeTag: 'b0',
    fileName: `${guid}.JPG`,
    addedDate: Date.UTC(2026, 4, 3),
    captureDate: Date.UTC(2026, 4, 3, 12),
    rendition: {
      field: 'resOriginalRes',
      downloadUrl: `https://cdn.test/${guid}?size=32`,
      fileChecksum: Buffer.from(`sum-${guid}`.padEnd(21, '.')).toString('base64'),
      size: 32,
      uti: 'public.jpeg',
    },
    likeCount: 0,
  });

  it('stores a new item with its key claim and its checksum claim; the users and the records of a page in one batch each; no HEAD after fresh claims', async () => {
    const { state, counted, dynamodb, tableName, objects } = await setUp();
    const sharedState = new DynamoDbSharedAlbumStateStore({
      client: DynamoDBDocumentClient.from(dynamodb),
      tableName,
    });
    const source = new ListedSharedAlbumSource();
    source.put(album, [item('i1'), item('i2'), item('i3')]);
    const deps = {
      source,
      sharedState,
      state,
      objects,
      downloader: new ByteServingDownloader(),
      deletePolicy: DEFAULT_DELETE_POLICY,
      comments: false,
      now: () => Date.now(),
    };

    const result = await archiveSharedAlbum(deps, album, false);

    expect(result).toMatchObject({ stored: 3, failures: [] });
    expect(counted()).toEqual({
      // per album: its items (once: the view and the counts come from what it wrote); the album
      // list for its folder and to record it
      QueryCommand: 1,
      GetItemCommand: 2,
      // per item: the key claim, the checksum claim (both conditional);
      // per album: the folder's claim and the album list (compare-and-set)
      PutItemCommand: 3 * 2 + 2,
      BatchWriteItemCommand: 2, // the page's items as users of their objects (before storing), their records (after)
      PutObjectCommand: 3 + 2, // the files, album.json, the catalog lines (not counted by the goal)
    });
  });
});
