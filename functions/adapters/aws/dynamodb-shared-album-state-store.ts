/**
 * The Shared Albums state in the state table (docs/state.md, "Shared albums"): the album list is
 * one item (`pk = shared-albums`, `sk = list`) written by compare-and-set on `revision`; each
 * archived item of an album is one item in the album's partition (`pk = shared-item#<albumguid>`,
 * `sk = <assetGuid>`). Documents are stored as JSON text and read back strictly: the table is ours.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '#domain/errors.ts';
import { VERSION_KINDS } from '#domain/model/asset.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import * as z from '#shared/zod.ts';
import { batchWriteAll } from './dynamodb-batch.ts';
import { queryPartition } from './dynamodb-query.ts';
import { sharedAlbumSchema } from './shared-album-schema.ts';

const LIST_KEY = { pk: 'shared-albums', sk: 'list' } as const;
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
  legacyServiceMissingAt: z.optional(z.number()),
});

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

  constructor(options: DynamoDbSharedAlbumStateStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async loadAlbums(): Promise<SharedAlbumsState | undefined> {
    const output = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: LIST_KEY, ConsistentRead: true }),
    );
    if (output.Item === undefined) return undefined;
    const row = rowSchema.parse(output.Item);
    const document = listDocumentSchema.parse(JSON.parse(row.document));
    return { ...document, revision: row.revision ?? 1 } as SharedAlbumsState;
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
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...LIST_KEY, document: JSON.stringify(document), revision: expectedRevision + 1 },
          ...(expectedRevision === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'revision = :expected',
                ExpressionAttributeValues: { ':expected': expectedRevision },
              }),
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new ConflictError(`shared albums changed since revision ${expectedRevision}`, { cause: error });
      }
      throw error;
    }
    return { ...(document as Omit<SharedAlbumsState, 'revision'>), revision: expectedRevision + 1 };
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

function itemRow(albumguid: string, item: StoredSharedItem): Record<string, unknown> {
  const document = itemSchema.parse(item);
  return { pk: sharedItemPartition(albumguid), sk: item.assetGuid, document: JSON.stringify(document) };
}
