/**
 * The Shared Albums state in the state table (docs/state.md, "Shared albums"): the album list is
 * one item (`pk = shared-albums`, `sk = list`) written by compare-and-set on `revision`; the albums
 * that left the account's view (kept for good while their objects are) are stored apart, in parts
 * the list names (`pk = shared-albums-part#<id>`, `sk = <n>`), so no number of albums ever seen
 * outgrows DynamoDB's 400 KB item (docs/reliability.md, finding 68). Each archived item of an album
 * is one item in the album's partition (`pk = shared-item#<albumguid>`, `sk = <assetGuid>`).
 * Documents are stored as JSON text and read back strictly: the table is ours.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '#domain/errors.ts';
import { VERSION_KINDS } from '#domain/model/asset.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import * as z from '#shared/zod.ts';
import { batchWriteAll } from './dynamodb-batch.ts';
import { queryPartition } from './dynamodb-query.ts';
import { sharedAlbumSchema } from './shared-album-schema.ts';

const LIST_KEY = { pk: 'shared-albums', sk: 'list' } as const;
/** The partition of one generation of the gone albums' parts (infra/state-table.ts lets the functions delete it). */
export const sharedAlbumsPartPartition = (id: string) => `shared-albums-part#${id}`;
/**
 * JSON bytes of gone albums per part: well under the 400 KB item (names and keys count too, and
 * an album is ~0.5 KB), so a part never fails for size.
 */
const PART_BYTES = 300_000;
/** The partition of a Shared Album's items (infra/state-table.ts grants the workers' batched writes on it). */
export const sharedItemPartition = (albumguid: string) => `shared-item#${albumguid}`;

const albumSchema = sharedAlbumSchema;

const storedAlbumSchema = z.strictObject({
  album: albumSchema,
  archivedCtag: z.optional(z.string()),
  enqueuedCtag: z.optional(z.string()),
  enqueuedAt: z.optional(z.number()),
  goneAt: z.optional(z.number()),
  itemCount: z.optional(z.number()),
  reducedCount: z.optional(z.number()),
  objectCount: z.optional(z.number()),
  folder: z.optional(z.string()),
  retry: z.optional(z.strictObject({ tries: z.number(), lastTriedAt: z.number() })),
});

const listDocumentSchema = z.strictObject({
  albums: z.record(z.string(), storedAlbumSchema),
  checkedAt: z.optional(z.number()),
  everyDatabaseAskedAt: z.optional(z.number()),
  collectionTokens: z.optional(
    z.strictObject({
      private: z.optional(z.array(z.string()).check(z.maxLength(8))),
      shared: z.optional(z.array(z.string()).check(z.maxLength(8))),
    }),
  ),
  checkedAlone: z.optional(z.enum(['legacy', 'newGeneration'])),
  /** Where the gone albums are (absent: none, or a list written before they were stored apart). */
  apart: z.optional(z.strictObject({ id: z.string().check(z.minLength(1)), parts: z.number() })),
  legacyServiceMissingAt: z.optional(z.number()),
});

type ListDocument = z.infer<typeof listDocumentSchema>;
type ApartPointer = NonNullable<ListDocument['apart']>;
type StoredAlbums = ListDocument['albums'];

const partSchema = z.strictObject({ albums: z.record(z.string(), storedAlbumSchema) });

const commentSchema = z.strictObject({
  kind: z.enum(['text', 'like']),
  text: z.string(),
  author: z.string(),
  at: z.optional(z.number()),
});

const itemSchema = z.strictObject({
  assetGuid: z.string(),
  fileName: z.string(),
  key: z.string(),
  ownsObject: z.boolean(),
  library: z.optional(
    z.strictObject({
      zone: z.strictObject({
        database: z.enum(['private', 'shared']),
        zoneName: z.string().check(z.minLength(1)),
        ownerRecordName: z.optional(z.string()),
      }),
      assetRecordName: z.string().check(z.minLength(1)),
      masterRecordName: z.string().check(z.minLength(1)),
      kind: z.enum(VERSION_KINDS),
    }),
  ),
  caption: z.optional(z.string()),
  fileChecksum: z.string(),
  size: z.number(),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  md5: z.optional(z.string().check(z.regex(/^[0-9a-f]{32}$/))),
  rendition: z.string(),
  reduced: z.boolean(),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  changeTag: z.string(),
  contributorDsid: z.optional(z.string()),
  contributorName: z.optional(z.string()),
  addedDate: z.optional(z.number()),
  captureDate: z.optional(z.number()),
  likeCount: z.number(),
  comments: z.array(commentSchema),
  removedAt: z.optional(z.number()),
  objectDeletedAt: z.optional(z.number()),
  archivedAt: z.number(),
});

/** BatchWriteItem's limit. */
const WRITE_BATCH = 25;

const rowSchema = z.looseObject({ document: z.string(), revision: z.optional(z.number()) });

export interface DynamoDbSharedAlbumStateStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export class DynamoDbSharedAlbumStateStore implements SharedAlbumStateStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  /**
   * The gone albums as this store last read or wrote them, with the list revision naming them: a
   * save from that revision that leaves them unchanged names the same parts, writing none.
   */
  #apart: { readonly revision: number; readonly pointer?: ApartPointer; readonly json: string } | undefined;

  constructor(options: DynamoDbSharedAlbumStateStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async loadAlbums(): Promise<SharedAlbumsState | undefined> {
    // A writer deletes the parts its list replaced: a reader between the two reads sees the list it
    // read name parts no longer there, and reads the list again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const output = await this.#client.send(
        new GetCommand({ TableName: this.#table, Key: LIST_KEY, ConsistentRead: true }),
      );
      if (output.Item === undefined) return undefined;
      const row = rowSchema.parse(output.Item);
      const { apart: pointer, ...document } = listDocumentSchema.parse(JSON.parse(row.document));
      const revision = row.revision ?? 1;
      const apart = pointer === undefined ? {} : await this.#readParts(pointer);
      if (apart === undefined) continue;
      this.#apart = { revision, ...(pointer === undefined ? {} : { pointer }), json: JSON.stringify(apart) };
      return { ...document, albums: { ...apart, ...document.albums }, revision } as SharedAlbumsState;
    }
    throw new ConflictError('the shared album list kept changing while it was read');
  }

  async saveAlbums(
    state: Omit<SharedAlbumsState, 'revision'>,
    expectedRevision: number,
  ): Promise<SharedAlbumsState> {
    // The list's own fields only (a caller may pass a loaded list, its revision in it); absent ones
    // stay absent (JSON drops `undefined`).
    const document = listDocumentSchema.parse({
      albums: state.albums,
      checkedAt: state.checkedAt,
      everyDatabaseAskedAt: state.everyDatabaseAskedAt,
      collectionTokens: state.collectionTokens,
      checkedAlone: state.checkedAlone,
      legacyServiceMissingAt: state.legacyServiceMissingAt,
    });
    const { live, gone } = splitGone(document.albums);
    const json = JSON.stringify(gone);
    const known = this.#apart?.revision === expectedRevision ? this.#apart : undefined;
    // Parts are written before the list that names them (a list never names a part not yet there)
    // and only when the gone albums changed: an album left, came back, or its objects were deleted.
    const written =
      json === '{}' || (known !== undefined && known.json === json)
        ? undefined
        : await this.#writeParts(gone);
    const pointer = json === '{}' ? undefined : (written ?? known?.pointer);
    let previous: ApartPointer | undefined;
    try {
      const output = await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...LIST_KEY,
            document: JSON.stringify({
              ...document,
              albums: live,
              ...(pointer === undefined ? {} : { apart: pointer }),
            }),
            revision: expectedRevision + 1,
          },
          ReturnValues: 'ALL_OLD',
          ...(expectedRevision === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'revision = :expected',
                ExpressionAttributeValues: { ':expected': expectedRevision },
              }),
        }),
      );
      previous = apartOf(output.Attributes);
    } catch (error) {
      // A PutItem whose reply was lost may have landed (the SDK's retry then fails its condition):
      // the parts this save wrote are dropped only if the list does not name them, else it saved.
      if (written !== undefined) {
        if ((await this.#storedPointer())?.id === written.id)
          return this.#saved(document, expectedRevision, written, json, known?.pointer);
        await this.#dropParts(written);
      }
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new ConflictError(`shared albums changed since revision ${expectedRevision}`, { cause: error });
      }
      throw error;
    }
    return this.#saved(document, expectedRevision, pointer, json, previous);
  }

  /** After the list was saved: the parts the replaced list named are dropped, and remembered what it names. */
  async #saved(
    document: Omit<ListDocument, 'apart'>,
    expectedRevision: number,
    pointer: ApartPointer | undefined,
    json: string,
    previous: ApartPointer | undefined,
  ): Promise<SharedAlbumsState> {
    if (previous !== undefined && previous.id !== pointer?.id) await this.#dropParts(previous);
    this.#apart = { revision: expectedRevision + 1, ...(pointer === undefined ? {} : { pointer }), json };
    return { ...(document as Omit<SharedAlbumsState, 'revision'>), revision: expectedRevision + 1 };
  }

  /** The parts the stored list names (one read, on a failed save only). */
  async #storedPointer(): Promise<ApartPointer | undefined> {
    const output = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: LIST_KEY, ConsistentRead: true }),
    );
    return apartOf(output.Item);
  }

  /** The gone albums of `pointer`'s parts, or undefined when one is missing (replaced meanwhile). */
  async #readParts(pointer: ApartPointer): Promise<StoredAlbums | undefined> {
    const parts = await queryPartition(
      this.#client,
      this.#table,
      sharedAlbumsPartPartition(pointer.id),
      (raw) => partSchema.parse(JSON.parse(rowSchema.parse(raw).document)),
    );
    if (parts.length !== pointer.parts) return undefined;
    return sortedByGuid(Object.assign({}, ...parts.map((p) => p.albums)));
  }

  /** Writes `gone` as a new generation of parts (a fresh id: a concurrent writer's never clash). */
  async #writeParts(gone: StoredAlbums): Promise<ApartPointer> {
    const id = randomUUID();
    const parts: StoredAlbums[] = [];
    let bytes = Number.POSITIVE_INFINITY;
    for (const [guid, album] of Object.entries(gone)) {
      const size = Buffer.byteLength(JSON.stringify(album)) + guid.length + 4;
      if (bytes + size > PART_BYTES) {
        parts.push({});
        bytes = 0;
      }
      (parts.at(-1) as Record<string, unknown>)[guid] = album;
      bytes += size;
    }
    const written = await Promise.allSettled(
      parts.map((albums, n) =>
        this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: { pk: sharedAlbumsPartPartition(id), sk: String(n), document: JSON.stringify({ albums }) },
          }),
        ),
      ),
    );
    const pointer = { id, parts: parts.length };
    const failed = written.find((w) => w.status === 'rejected');
    // No list will name this generation: the parts that did land are dropped, not left for good.
    if (failed !== undefined) {
      await this.#dropParts(pointer);
      throw failed.reason;
    }
    return pointer;
  }

  /**
   * Deletes a generation of parts no list names any more. Best effort: the save it follows has
   * succeeded (or failed) already, and a part no list names is never read, only stored.
   */
  async #dropParts(pointer: ApartPointer): Promise<void> {
    const deletes = Array.from({ length: pointer.parts }, (_, n) =>
      this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: sharedAlbumsPartPartition(pointer.id), sk: String(n) },
        }),
      ),
    );
    await Promise.allSettled(deletes);
  }

  async loadItems(albumguid: string): Promise<StoredSharedItem[]> {
    return queryPartition(
      this.#client,
      this.#table,
      sharedItemPartition(albumguid),
      (raw) => itemSchema.parse(JSON.parse(rowSchema.parse(raw).document)) as StoredSharedItem,
    );
  }

  async putItem(albumguid: string, item: StoredSharedItem): Promise<void> {
    await this.#client.send(new PutCommand({ TableName: this.#table, Item: itemRow(albumguid, item) }));
  }

  async putItems(albumguid: string, items: readonly StoredSharedItem[]): Promise<void> {
    // One record per item in a batch: DynamoDB refuses two writes of one key in a request.
    const unique = [...new Map(items.map((i) => [i.assetGuid, i] as const)).values()];
    for (let i = 0; i < unique.length; i += WRITE_BATCH) {
      const requests: Record<string, unknown>[] = unique
        .slice(i, i + WRITE_BATCH)
        .map((item) => ({ PutRequest: { Item: itemRow(albumguid, item) } }));
      await batchWriteAll(this.#client, this.#table, requests, 'DynamoDB left shared album items unwritten');
    }
  }
}

/** Albums still in view stay in the list item (Apple bounds them: 200 owned, 200 subscribed); gone ones go apart. */
function splitGone(albums: StoredAlbums): { live: StoredAlbums; gone: StoredAlbums } {
  const live: StoredAlbums = {};
  const gone: StoredAlbums = {};
  for (const [guid, album] of Object.entries(albums))
    (album.goneAt === undefined ? live : gone)[guid] = album;
  return { live, gone: sortedByGuid(gone) };
}

/** One order for the same albums, so two sets compare by their JSON. */
function sortedByGuid(albums: StoredAlbums): StoredAlbums {
  return Object.fromEntries(Object.entries(albums).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The parts a replaced list named, if any (read leniently: only to drop them). */
function apartOf(item: Record<string, unknown> | undefined): ApartPointer | undefined {
  if (typeof item?.document !== 'string') return undefined;
  const parsed = listDocumentSchema.shape.apart.safeParse(
    (JSON.parse(item.document) as { apart?: unknown }).apart,
  );
  return parsed.success ? parsed.data : undefined;
}

function itemRow(albumguid: string, item: StoredSharedItem): Record<string, unknown> {
  const document = itemSchema.parse(item);
  return { pk: sharedItemPartition(albumguid), sk: item.assetGuid, document: JSON.stringify(document) };
}
