/**
 * Parking the local queues at the end of a run (functions/local/parked-work.ts): everything
 * receivable is moved into the file, and a queue with nothing on it is not received from. The
 * local SQS answers a receive that finds fewer messages than asked for only after 40 ms, so every
 * run paid 80 ms to find two empty queues empty; a count answers at once.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parkQueuedWork, readParkedWork } from '#local/parked-work.ts';
import { localClientConfig } from '#local/servers/client-config.ts';
import { ensureWorkQueue, type WorkQueueUrls } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSqsServer } from '#local/servers/sqs-server.ts';
import { watchFileSyncs } from '#test/helpers/file-syncs.ts';

let server: LocalServer;
let client: SQSClient;
let queues: WorkQueueUrls;
/** The queue of every ReceiveMessage the client sent. */
const receivedFrom: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  server = await startSqsServer();
  client = new SQSClient(localClientConfig(server.endpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ReceiveMessageCommand')
        receivedFrom.push((args.input as { QueueUrl: string }).QueueUrl);
      return next(args);
    },
    { step: 'initialize' },
  );
  queues = await ensureWorkQueue(client, 'parked-work-test', { visibilityTimeoutSeconds: 900 });
});
afterEach(() => {
  receivedFrom.length = 0;
  vi.restoreAllMocks();
});
afterAll(async () => {
  client.destroy();
  await server.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const freshDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-parked-'));
  dirs.push(dir);
  return dir;
};

const send = (queueUrl: string, body: string) =>
  client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: { workId: { DataType: 'String', StringValue: body } },
    }),
  );

describe('parkQueuedWork', () => {
  it('parks what is on both queues, with its attributes, and leaves them empty', async () => {
    await send(queues.deadLetterQueueUrl, 'dead-1');
    for (let i = 0; i < 12; i++) await send(queues.queueUrl, `work-${i}`);
    const dataDir = await freshDir();

    const parked = await parkQueuedWork(client, queues, dataDir);

    expect(parked.deadLetters).toEqual([
      { body: 'dead-1', attributes: { workId: { dataType: 'String', value: 'dead-1' } } },
    ]);
    expect(parked.unfinished.map((m) => m.body).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `work-${i}`).sort(),
    );
    expect(await readParkedWork(dataDir)).toEqual(parked);
    // Both are empty now: parking again receives nothing and parks nothing.
    receivedFrom.length = 0;
    expect(await parkQueuedWork(client, queues, dataDir)).toEqual({ v: 1, deadLetters: [], unfinished: [] });
    expect(receivedFrom).toEqual([]);
  });

  it('does not receive from a queue that holds nothing', async () => {
    await send(queues.deadLetterQueueUrl, 'dead-2');
    const parked = await parkQueuedWork(client, queues, await freshDir());
    expect(parked.deadLetters.map((m) => m.body)).toEqual(['dead-2']);
    expect(parked.unfinished).toEqual([]);
    expect(receivedFrom).not.toContain(queues.queueUrl);
  });

  // The file is the only copy of that work: a power loss right after the rename must not leave
  // it empty (XFS, btrfs, NFS and APFS keep a renamed, never fsynced file's old length of 0).
  it('fsyncs the parked file before renaming it, and its directory after', async () => {
    await send(queues.queueUrl, 'durable-1');
    const dataDir = await freshDir();
    const syncs = await watchFileSyncs(await freshDir());

    const parked = await parkQueuedWork(client, queues, dataDir);

    expect(syncs.kinds).toEqual(['file', 'dir']);
    expect(await readParkedWork(dataDir)).toEqual(parked);
    expect(await readdir(dataDir)).toEqual(['parked-work.json']);
  });

  // Work messages carry signed download URLs (valid about an hour): readable by the owner only,
  // as secrets.json is, whatever the umask and the data folder's mode.
  it('writes the parked file readable by its owner only (0600)', async () => {
    await send(queues.queueUrl, 'private-1');
    const dataDir = await freshDir();

    await parkQueuedWork(client, queues, dataDir);

    expect((await stat(path.join(dataDir, 'parked-work.json'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous file, and no temporary one, when the write fails', async () => {
    const dataDir = await freshDir();
    const file = path.join(dataDir, 'parked-work.json');
    const previous = `${JSON.stringify({ v: 1, deadLetters: [], unfinished: [{ body: 'old', attributes: {} }] })}\n`;
    await writeFile(file, previous);
    await send(queues.queueUrl, 'durable-2');
    const syncs = await watchFileSyncs(await freshDir());
    syncs.spy.mockRejectedValueOnce(Object.assign(new Error('I/O error'), { code: 'EIO' }));

    await expect(parkQueuedWork(client, queues, dataDir)).rejects.toThrow('I/O error');

    expect(await readFile(file, 'utf8')).toBe(previous);
    expect(await readdir(dataDir)).toEqual(['parked-work.json']);
  });
});
