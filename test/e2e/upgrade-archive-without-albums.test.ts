/**
 * Upgrade: an archive whose first sync ran under a release from before albums (before the
 * i14-albums merge, 2026-12-06; e.g. 7de3375) holds no album records, members or views. Albums
 * were learnt only by the album walk of a first sync or a fresh enumeration, and a caught-up zone
 * never walked: `verify` reported the views missing on every run (exit 5) and `verify --repair`
 * could not write them. A zone whose state does not record the walk now walks its albums once.
 * (Seen first by opening an archive 7de3375's `demo` made: sync idle, verify 9 x viewMissing.)
 * Rebuilt with the demo by removing what the older release never wrote: album items and views.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAws } from '#test/helpers/local-aws.ts';
import { runCli } from '#test/helpers/run-cli.ts';

let dir: string;

function resultOf(run: { stdout: string; stderr: string }): Record<string, unknown> {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result on stdout:\n${run.stdout}\n${run.stderr}`);
  }
}

/**
 * Takes out of the local archive what a release from before albums never wrote: album records and
 * members, album views, and the zone state's record of the album walk.
 */
async function forgetAlbums(dataDir: string): Promise<void> {
  const aws = await startTestAws({ dataDir });
  try {
    const [table] = (await aws.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await aws.documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        const key = { pk: item.pk, sk: item.sk };
        if (pk === 'album' || pk.startsWith('albumMember#'))
          await aws.documents.send(new DeleteCommand({ TableName: table, Key: key }));
        if (pk === 'zone' && item.albumsWalkedAt !== undefined)
          await aws.documents.send(
            new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'REMOVE albumsWalkedAt' }),
          );
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    for (const bucket of (await aws.s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
      const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket.Name, Prefix: 'albums/' }));
      const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key }));
      if (objects.length > 0)
        await aws.s3.send(new DeleteObjectsCommand({ Bucket: bucket.Name, Delete: { Objects: objects } }));
    }
  } finally {
    await aws.stop();
  }
}

/** The own library's zone items' record of the album walk (`albumsWalkedAt`). */
async function albumWalkRecords(dataDir: string): Promise<unknown[]> {
  const aws = await startTestAws({ dataDir });
  try {
    const [table] = (await aws.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    const page = await aws.documents.send(new ScanCommand({ TableName: table }));
    return (page.Items ?? [])
      .filter((item) => item.pk === 'zone' && String(item.sk).includes('PrimarySync'))
      .map((item) => item.albumsWalkedAt);
  } finally {
    await aws.stop();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upgrade-albums-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an archive first synced before albums', () => {
  it('gets its album views on the next sync', async () => {
    const demo = await runCli(['demo', '--dir', dir, '--assets', '20', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    const archive = join(dir, 'archive');
    await forgetAlbums(join(archive, 'aws'));
    const where = ['--local', archive, '--session-file', join(dir, 'session.json'), '--json'];

    const sync = await runCli(['sync', ...where]);
    expect(sync.code, sync.stderr).toBe(0);
    const repair = await runCli(['verify', '--repair', ...where]);
    const verify = await runCli(['verify', ...where]);
    const found = resultOf(verify) as { albums?: { findings: { type: string }[] } };
    expect({
      repairExit: repair.code,
      verifyExit: verify.code,
      albumFindings: found.albums?.findings.map((f) => f.type) ?? [],
    }).toEqual({ repairExit: 0, verifyExit: 0, albumFindings: [] });
    // Recorded, so the next runs do not walk again.
    const records = await albumWalkRecords(join(archive, 'aws'));
    expect(records.length).toBeGreaterThan(0);
    for (const walkedAt of records) expect(walkedAt).toEqual(expect.any(Number));
  }, 300_000);
});
