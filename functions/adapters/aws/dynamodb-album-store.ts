/**
 * `AlbumStore` on the state table (docs/state.md#albums): one item per album in the `album`
 * partition (albums are few: one Query lists them all), and one item per member in the album's
 * own partition `albumMember#<zone>#<album>`, sorted by asset record name, holding its position.
 * An album of any size stays many small items, never one item near DynamoDB's 400 KB limit.
 * Member writes are plain PutItem/DeleteItem: idempotent, so a retry or a race only repeats them.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, InvalidInputError } from '#domain/errors.ts';
import {
  type AlbumMember,
  type AlbumRef,
  compareMembers,
  type StoredAlbum,
  type StoredAlbumInput,
} from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import { queryPartition } from './dynamodb-query.ts';
import {
  albumItemSchema,
  albumMemberItemSchema,
  assetAlbumItemSchema,
  keys,
  withoutKeys,
  withoutUndefined,
} from './state-items.ts';

export interface DynamoDbAlbumStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
}

/**
 * Member writes in flight at once. Single-item writes, not BatchWriteItem: the pipeline's role
 * grants item actions only (infra/state-table.ts), and the SDK retries each one on throttling.
 */
const PARALLEL_WRITES = 16;

async function inParallel<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL_WRITES) {
    await Promise.all(items.slice(i, i + PARALLEL_WRITES).map(write));
  }
}

export class DynamoDbAlbumStore implements AlbumStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: DynamoDbAlbumStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  async loadAlbums(): Promise<StoredAlbum[]> {
    return queryPartition(this.client, this.table, keys.albums, (item) =>
      withoutKeys(albumItemSchema.parse(item)),
    );
  }

  async loadAlbum(ref: AlbumRef): Promise<StoredAlbum | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.table, Key: keys.album(ref), ConsistentRead: true }),
    );
    return output.Item === undefined ? undefined : withoutKeys(albumItemSchema.parse(output.Item));
  }

  async saveAlbum(album: StoredAlbumInput, expectedRevision: number): Promise<StoredAlbum> {
    if (!Number.isInteger(expectedRevision) || expectedRevision < 0) {
      throw new InvalidInputError(`expected revision must be a whole number >= 0, got ${expectedRevision}`);
    }
    const saved: StoredAlbum = withoutUndefined({
      ...album,
      updatedAt: this.now(),
      revision: expectedRevision + 1,
    });
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: withoutUndefined({ ...keys.album(album), ...saved }),
          ...(expectedRevision === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'revision = :expected',
                ExpressionAttributeValues: { ':expected': expectedRevision },
              }),
        }),
      );
    } catch (error) {
      if ((error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException') {
        throw new ConflictError(`album ${album.recordName} changed since revision ${expectedRevision}`, {
          cause: error,
        });
      }
      throw error;
    }
    return saved;
  }

  async albumMembers(album: AlbumRef): Promise<AlbumMember[]> {
    const members = await queryPartition(this.client, this.table, keys.albumMembers(album), (item) => {
      const { assetRecordName, position } = albumMemberItemSchema.parse(item);
      return { assetRecordName, position };
    });
    return members.sort(compareMembers);
  }

  async putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]): Promise<void> {
    const latest = new Map(members.map((m) => [m.assetRecordName, m]));
    // The inverse item first: a crash in between leaves an album marked stale needlessly, never missed.
    await inParallel([...latest.values()], async (m) => {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.assetAlbum(album, m.assetRecordName), albumRecordName: album.recordName },
        }),
      );
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.albumMember(album, m.assetRecordName),
            assetRecordName: m.assetRecordName,
            position: m.position,
          },
        }),
      );
    });
  }

  async removeAlbumMembers(album: AlbumRef, assetRecordNames: readonly string[]): Promise<void> {
    await inParallel([...new Set(assetRecordNames)], async (name) => {
      await this.client.send(
        new DeleteCommand({ TableName: this.table, Key: keys.albumMember(album, name) }),
      );
      await this.client.send(new DeleteCommand({ TableName: this.table, Key: keys.assetAlbum(album, name) }));
    });
  }

  async albumsOfAsset(zone: ZoneRef, assetRecordName: string): Promise<string[]> {
    const albums = await queryPartition(
      this.client,
      this.table,
      keys.assetAlbums(zone, assetRecordName),
      (item) => assetAlbumItemSchema.parse(item).albumRecordName,
    );
    return albums.sort();
  }
}
