import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { localClientConfig } from '#local/servers/client-config.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';
import { ensureBucket, ensureStateTable } from '#local/servers/provision.ts';
import { startTestAws } from '#test/helpers/local-aws.ts';

describe('startLocalAws', () => {
  it('keeps the state table and the archive across a restart on the same data dir', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-'));
    const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
    try {
      const first = await startTestAws({ dataDir });
      await ensureStateTable(first.dynamodb, 'state');
      await ensureBucket(first.s3, 'archive');
      await new DynamoDbSyncStateStore({ client: first.documents, tableName: 'state' }).saveZone(
        { zone, syncToken: 'kept' },
        0,
      );
      await new S3ObjectStore({ client: first.s3, bucket: 'archive' }).putStream(
        'a/IMG.JPG',
        Readable.from([Buffer.from('bytes')]),
        { contentType: 'image/jpeg', contentLength: 5, metadata: mtimeMetadata(0) },
      );
      await first.stop();

      const second = await startTestAws({ dataDir });
      await ensureStateTable(second.dynamodb, 'state');
      await ensureBucket(second.s3, 'archive');
      const token = (
        await new DynamoDbSyncStateStore({ client: second.documents, tableName: 'state' }).loadZone(zone)
      )?.syncToken;
      const head = await new S3ObjectStore({ client: second.s3, bucket: 'archive' }).head('a/IMG.JPG');
      await second.stop();
      expect(token).toBe('kept');
      expect(head?.size).toBe(5);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'a garbage CURRENT file inside it',
      async (folder: string) => {
        await mkdir(folder);
        await writeFile(path.join(folder, 'CURRENT'), 'not a LevelDB manifest name\n');
      },
    ],
    ['a file where the folder should be', async (folder: string) => writeFile(folder, 'garbage')],
  ])(
    'refuses to start on a local DynamoDB folder with %s, naming it and what to do',
    async (_what, damage) => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-'));
      const folder = path.join(dataDir, 'dynamodb');
      try {
        await damage(folder);
        // Stop whatever did start, so a failing run leaves no server behind.
        const attempt = startTestAws({ dataDir }).then(async (aws) => {
          await aws.stop();
          return 'started';
        });
        await expect(attempt).rejects.toThrow(`the local DynamoDB folder ${folder} cannot be opened`);
        await expect(attempt).rejects.toThrow(/Move it aside/);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('reads a table definition from LevelDB once, not on every request', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-'));
    // dynalite's own LevelDB class: its reads of table definitions (keys `table~<name>`) are
    // counted, asynchronous and synchronous (dynalite-sync-reads.ts).
    type Read = (key: unknown, ...rest: unknown[]) => unknown;
    const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as {
      Level: { prototype: { get: Read; getSync: Read } };
    };
    const { get, getSync } = Level.prototype;
    let tableReads = 0;
    const counted = (read: Read): Read =>
      function (this: unknown, key, ...rest) {
        if (typeof key === 'string' && key.startsWith('table~')) tableReads++;
        return read.call(this, key, ...rest);
      };
    Level.prototype.get = counted(get);
    Level.prototype.getSync = counted(getSync);
    const server = await startDynamoDbServer({ directory: path.join(dataDir, 'dynamodb') });
    const client = new DynamoDBClient(localClientConfig(server.endpoint));
    try {
      await ensureStateTable(client, 'state');
      const before = tableReads;
      for (let i = 0; i < 20; i++)
        await client.send(
          new PutItemCommand({ TableName: 'state', Item: { pk: { S: `p${i}` }, sk: { S: 's' } } }),
        );
      expect(tableReads - before).toBeLessThanOrEqual(1);
    } finally {
      Object.assign(Level.prototype, { get, getSync });
      client.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('sees a table created again with another key at once', async () => {
    const server = await startDynamoDbServer();
    const client = new DynamoDBClient(localClientConfig(server.endpoint));
    const create = (key: string) =>
      client.send(
        new CreateTableCommand({
          TableName: 'changing',
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    const put = (key: string) =>
      client.send(new PutItemCommand({ TableName: 'changing', Item: { [key]: { S: 'x' } } }));
    try {
      await create('first');
      await put('first');
      await client.send(new DeleteTableCommand({ TableName: 'changing' }));
      await waitUntilTableNotExists(
        { client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
        { TableName: 'changing' },
      );
      await create('second');

      await expect(put('second')).resolves.toBeDefined();
      await expect(put('first')).rejects.toThrow(/key/i);
    } finally {
      client.destroy();
      await server.stop();
    }
  });

  it('binds every server to loopback on an ephemeral port', async () => {
    const local = await startTestAws();
    try {
      const urls = Object.values(local.aws.endpoints).map((endpoint) => new URL(endpoint));
      expect(urls.every((url) => url.hostname === '127.0.0.1' && Number(url.port) > 0)).toBe(true);
      expect(new Set(urls.map((url) => url.port)).size).toBe(4);
    } finally {
      await local.stop();
    }
  });
});
