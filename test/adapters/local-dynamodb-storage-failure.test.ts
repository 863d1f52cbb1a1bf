/**
 * A LevelDB write of the local DynamoDB that fails (a full disk: `IO error: …: No space left on
 * device`) is answered as a 500 `InternalServerError` naming LevelDB's reason, and the server
 * goes on. dynalite used to throw such an error inside a callback (`if (err) throw err`): an
 * uncaught exception that ended the CLI with a stack trace and no `--json` object (reliability
 * finding 108). The failure is played by LevelDB's own write methods, failing for a while.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportError } from '#cli/io/error-report.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';

type Write = (...args: unknown[]) => Promise<void>;
const { ClassicLevel } = createRequire(createRequire(import.meta.url).resolve('dynalite'))(
  'classic-level',
) as {
  ClassicLevel: { prototype: { _put: Write; _batch: Write } };
};

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'icloud-s3-dynamo-full-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

describe('the local DynamoDB on a disk that is full', () => {
  it("answers a failed write with a 500 naming LevelDB's reason, and serves again once it can write", async () => {
    const server = await startDynamoDbServer({ directory: path.join(directory, 'dynamodb') });
    const client = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const { _put, _batch } = ClassicLevel.prototype;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: 'photos',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // dynalite marks the table ACTIVE by a write of its own on a timer (`createTableMs: 0`): on a
      // loaded machine that write could land in the full window below and leave the table CREATING.
      while (
        (await client.send(new DescribeTableCommand({ TableName: 'photos' }))).Table?.TableStatus !== 'ACTIVE'
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const put = () => client.send(new PutItemCommand({ TableName: 'photos', Item: { pk: { S: 'a' } } }));
      const full = async () => {
        throw Object.assign(new Error(`IO error: ${directory}/000012.log: No space left on device`), {
          code: 'LEVEL_IO_ERROR',
        });
      };
      ClassicLevel.prototype._put = full;
      ClassicLevel.prototype._batch = full;
      const refused = await put().then(
        () => 'stored',
        (error: Error) => error,
      );
      expect(refused).toMatchObject({
        name: 'InternalServerError',
        message: expect.stringMatching(/^local DynamoDB storage failed: .*No space left on device/),
      });
      expect(reportError(refused)).toMatchObject({ code: 'disk-full', exitCode: 1 });

      ClassicLevel.prototype._put = _put;
      ClassicLevel.prototype._batch = _batch;
      expect(await put().then(() => 'stored')).toBe('stored');
    } finally {
      ClassicLevel.prototype._put = _put;
      ClassicLevel.prototype._batch = _batch;
      client.destroy();
      await server.stop();
    }
  });
});
