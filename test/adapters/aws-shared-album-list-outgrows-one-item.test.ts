/**
 * The Shared Albums list outgrowing one DynamoDB item (docs/reliability.md, finding 68): an album
 * that leaves the account's view stays recorded for good (`goneAt`, state.ts) while its objects are
 * kept, and Apple allows 200 owned and 200 subscribed albums at once, so over the years the albums
 * ever seen pass what one 400 KB item holds (~0.55 KB each as stored). Before the fix the whole
 * list was one item and, past ~750 albums ever seen, every save failed (dynalite enforces the item
 * limit as DynamoDB does): the Shared Albums step failed on every run, for good. Gone albums are
 * now stored apart, in parts written before the compare-and-set list that names them.
 */
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { ConflictError } from '#domain/errors.ts';
import type { StoredSharedAlbum } from '#domain/shared-albums/state.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

const guid = (i: number) => `${i.toString(16).padStart(8, '0').toUpperCase()}-1B2C-4D5E-8F90-ABCDEF123456`;

/** A subscribed legacy album as the pipeline stores it once archived. */
function album(i: number, gone: boolean): StoredSharedAlbum {
  return {
    album: {
      albumguid: guid(i),
      name: `Family Christmas ${1990 + (i % 40)} #${i}`,
      location: 'https://p123-sharedstreams.icloud.com/12345678901/sharedstreams/',
      ctag: 'FT;1;4242',
      ownerDsid: '12345678901',
      sharingType: 'subscribed',
      creationDate: 1_575_000_000_000,
      isPublic: false,
      ownerName: 'Jane Appleseed',
    },
    archivedCtag: 'FT;1;4242',
    enqueuedCtag: 'FT;1;4242',
    enqueuedAt: 1_750_000_000_000,
    itemCount: 250,
    reducedCount: 250,
    objectCount: 250,
    folder: `Family Christmas ${1990 + (i % 40)} #${i}`,
    ...(gone ? { goneAt: 1_760_000_000_000 } : {}),
  };
}

function albums(live: number, gone: number): Record<string, StoredSharedAlbum> {
  const all: Record<string, StoredSharedAlbum> = {};
  for (let i = 0; i < live + gone; i++) all[guid(i)] = album(i, i >= live);
  return all;
}

async function newStore() {
  const tableName = await local.createTable();
  return { tableName, store: new DynamoDbSharedAlbumStateStore({ client: local.documents, tableName }) };
}

/** Every item of the table (parts included), by `pk sk`. */
async function rows(tableName: string): Promise<string[]> {
  const keys: string[] = [];
  // A Scan page stops at 1 MB read: a few parts of ~300 KB fill one.
  let start: Record<string, unknown> | undefined;
  do {
    const out = await local.documents.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }),
    );
    keys.push(...(out.Items ?? []).map((i) => `${i.pk} ${i.sk}`));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return keys.sort();
}

describe('the Shared Albums list past what one DynamoDB item holds', () => {
  it('saves and reads back Apple’s maximum of live albums and 400 gone over the years', async () => {
    const { store } = await newStore();
    const all = albums(400, 400);
    const bytes = Buffer.byteLength(JSON.stringify({ albums: all }));
    expect(bytes).toBeGreaterThan(400 * 1024);
    let outcome = `saved (${bytes} bytes)`;
    try {
      await store.saveAlbums({ albums: all, checkedAt: 5 }, 0);
    } catch (error) {
      outcome = `${(error as Error).name}: ${(error as Error).message} (${bytes} bytes)`;
    }
    expect(outcome).toBe(`saved (${bytes} bytes)`);
    const back = await store.loadAlbums();
    expect(back).toEqual({ albums: all, checkedAt: 5, revision: 1 });
  });

  it('holds any number of gone albums (3,000: several parts)', async () => {
    const { store, tableName } = await newStore();
    const all = albums(10, 3000);
    await store.saveAlbums({ albums: all }, 0);
    // Read by a store that did not write it (another Lambda).
    const other = new DynamoDbSharedAlbumStateStore({ client: local.documents, tableName });
    expect(await other.loadAlbums()).toEqual({ albums: all, revision: 1 });
    expect((await rows(tableName)).filter((r) => r.startsWith('shared-albums-part#')).length).toBeGreaterThan(
      1,
    );
  });

  it('rewrites no part while the gone albums are unchanged, and drops the replaced parts once a new list names new ones', async () => {
    const { store, tableName } = await newStore();
    const all = albums(3, 2);
    await store.saveAlbums({ albums: all }, 0);
    const first = await rows(tableName);
    const loaded = await store.loadAlbums();
    // A live album's change alone: the parts stay as they are.
    const live = { ...all, [guid(0)]: { ...album(0, false), enqueuedAt: 7 } };
    await store.saveAlbums({ albums: live }, loaded!.revision);
    expect(await rows(tableName)).toEqual(first);
    // An album leaves: new parts, the old ones gone.
    const left = { ...live, [guid(1)]: { ...album(1, false), goneAt: 9 } };
    await store.saveAlbums({ albums: left }, 2);
    const after = await rows(tableName);
    expect(after.filter((r) => r.startsWith('shared-albums-part#'))).toHaveLength(1);
    expect(after).not.toEqual(first);
    expect(await store.loadAlbums()).toEqual({ albums: left, revision: 3 });
    // It comes back: no gone album left, no part left.
    const back = {
      ...left,
      [guid(1)]: album(1, false),
      [guid(3)]: album(3, false),
      [guid(4)]: album(4, false),
    };
    await store.saveAlbums({ albums: back }, 3);
    expect(await rows(tableName)).toEqual(['shared-albums list']);
    expect(await store.loadAlbums()).toEqual({ albums: back, revision: 4 });
  });

  it('keeps compare-and-set: a stale save loses, leaves the winner’s parts readable and its own none', async () => {
    const { store, tableName } = await newStore();
    await store.saveAlbums({ albums: albums(2, 2) }, 0);
    const a = new DynamoDbSharedAlbumStateStore({ client: local.documents, tableName });
    const b = new DynamoDbSharedAlbumStateStore({ client: local.documents, tableName });
    const seenByA = await a.loadAlbums();
    const seenByB = await b.loadAlbums();
    const winner = { ...seenByA!.albums, [guid(0)]: { ...album(0, false), goneAt: 11 } };
    await a.saveAlbums({ albums: winner }, seenByA!.revision);
    const loser = { ...seenByB!.albums, [guid(1)]: { ...album(1, false), goneAt: 12 } };
    await expect(b.saveAlbums({ albums: loser }, seenByB!.revision)).rejects.toBeInstanceOf(ConflictError);
    expect(await b.loadAlbums()).toEqual({ albums: winner, revision: 2 });
    expect((await rows(tableName)).filter((r) => r.startsWith('shared-albums-part#'))).toHaveLength(1);
  });

  it('reads a list saved before gone albums were stored apart (every album in the one item)', async () => {
    const { store, tableName } = await newStore();
    const all = albums(3, 3);
    await local.documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'shared-albums',
          sk: 'list',
          document: JSON.stringify({ albums: all, checkedAt: 1 }),
          revision: 4,
        },
      }),
    );
    expect(await store.loadAlbums()).toEqual({ albums: all, checkedAt: 1, revision: 4 });
    // Its next save moves the gone ones apart.
    await store.saveAlbums({ albums: all, checkedAt: 2 }, 4);
    const row = await local.documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'shared-albums', sk: 'list' } }),
    );
    expect(Object.keys(JSON.parse(row.Item!.document as string).albums)).toHaveLength(3);
    expect(await store.loadAlbums()).toEqual({ albums: all, checkedAt: 2, revision: 5 });
  });

  it('re-reads the list when the parts it names were replaced meanwhile (a reader racing a writer)', async () => {
    const { store, tableName } = await newStore();
    await store.saveAlbums({ albums: albums(1, 2) }, 0);
    const stale = await local.documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'shared-albums', sk: 'list' } }),
    );
    // A writer replaces the gone albums (new parts, old ones deleted) ...
    const next = { ...albums(1, 2), [guid(0)]: { ...album(0, false), goneAt: 3 } };
    await store.saveAlbums({ albums: next }, 1);
    // ... and a reader that got the old list (put back here) finds its parts missing: it reads again.
    let reads = 0;
    // The table's client, its list read answered once with the stale list.
    const client = Object.create(local.documents, {
      send: {
        value: async (command: unknown) => {
          if (command instanceof GetCommand && (command.input.Key as { sk: string }).sk === 'list') {
            reads++;
            if (reads === 1) return stale;
          }
          return local.documents.send(command as never);
        },
      },
    });
    const racing = new DynamoDbSharedAlbumStateStore({ client, tableName });
    expect(await racing.loadAlbums()).toEqual({ albums: next, revision: 2 });
    expect(reads).toBe(2);
  });

  it('keeps the parts of a save whose reply was lost (its retry refused, the list it wrote naming them): saved', async () => {
    const { store, tableName } = await newStore();
    await store.saveAlbums({ albums: albums(1, 1) }, 0);
    const loaded = await store.loadAlbums();
    // The list's PutItem lands, its reply is lost, and the SDK's retry is refused (revision moved on).
    const client = Object.create(local.documents, {
      send: {
        value: async (command: unknown) => {
          const out = await local.documents.send(command as never);
          if (command instanceof PutCommand && command.input.Item?.sk === 'list') {
            throw Object.assign(new Error('The conditional request failed'), {
              name: 'ConditionalCheckFailedException',
            });
          }
          return out;
        },
      },
    });
    const lossy = new DynamoDbSharedAlbumStateStore({ client, tableName });
    await lossy.loadAlbums();
    const next = { ...loaded!.albums, [guid(0)]: { ...album(0, false), goneAt: 5 } };
    // It did save: said so, and the parts its list names are kept.
    expect((await lossy.saveAlbums({ albums: next }, loaded!.revision)).revision).toBe(2);
    expect(await store.loadAlbums()).toEqual({ albums: next, revision: 2 });
  });

  it('leaves no part behind when writing a new generation of parts fails partway', async () => {
    const { store, tableName } = await newStore();
    await store.saveAlbums({ albums: albums(1, 3000) }, 0);
    const before = await rows(tableName);
    const loaded = await store.loadAlbums();
    // The second part's PutItem fails for good (throttled past the SDK's retries); the others land.
    const sent: Promise<unknown>[] = [];
    const client = Object.create(local.documents, {
      send: {
        value: async (command: unknown) => {
          if (command instanceof PutCommand && command.input.Item?.sk === '1')
            throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
              name: 'ProvisionedThroughputExceededException',
            });
          const out = local.documents.send(command as never);
          sent.push(out);
          return out;
        },
      },
    });
    const failing = new DynamoDbSharedAlbumStateStore({ client, tableName });
    await failing.loadAlbums();
    const next = { ...loaded!.albums, [guid(0)]: { ...album(0, false), goneAt: 5 } };
    await expect(failing.saveAlbums({ albums: next }, loaded!.revision)).rejects.toThrow(/throughput/);
    await Promise.allSettled(sent); // the other parts' writes in flight land first
    // The list still names the first generation, and only its parts are stored.
    expect(await rows(tableName)).toEqual(before);
    expect(await store.loadAlbums()).toEqual(loaded);
  });
});
