/**
 * docs/commands.md says `local serve` "reads the objects where `sync` stored them and only reads
 * them; while a `sync` writes, objects it adds appear on the next listing". It used to start an
 * s3rver child that ran the start-up repair (`repairLocalS3Store`) on the folder, and no lock kept
 * it from a running sync: it deleted the sync's writes in progress (the `.icloud-s3-partial-*`
 * temporary file of an object being stored, and the metadata a new object's commit renamed into
 * place just before its object file). The second left that object, once the sync renamed it in,
 * without metadata: a key s3rver cannot serve, which the next start's repair dropped while the
 * manifest listed it as archived (reliability finding 110). `local serve` now never repairs.
 *
 * The sync's write is frozen here at the point `commit` (atomic-s3rver-store.ts) reaches between
 * its metadata rename and its object rename, with the body still in its temporary file.
 */

import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { serveArchive } from '#local/serve/serve-archive.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 4, seed: 16 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-serve-beside-sync-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  const summary = await runLocalSync({
    dataDir: join(dir, 'data'),
    ...signedIn,
    logger: createLogger({ level: 'SILENT' }),
  });
  expect(summary.outcome).toBe('succeeded');
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function firstObjectFile(folder: string): Promise<string> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const object = entries.find(
    (e) => e.isFile() && e.name.endsWith('._S3rver_object') && !e.parentPath.includes('catalog'),
  );
  if (object === undefined) throw new Error('no object');
  return join(object.parentPath, object.name);
}

describe('local serve started while a sync stores an object', () => {
  it("leaves the sync's write in progress alone", async () => {
    const bucket = join(dir, 'data', 'aws', 's3', 'icloud-s3-archive');
    const existing = await firstObjectFile(bucket);
    const base = existing.slice(0, -'._S3rver_object'.length);
    // A new key beside it, mid-commit: metadata in place, body in its temporary file.
    const key = `${base}-NEW.JPG`;
    const temp = `${key}._S3rver_object.icloud-s3-partial-0123456789ab`;
    await copyFile(existing, temp);
    await copyFile(`${base}._S3rver_metadata.json`, `${key}._S3rver_metadata.json`);

    const server = await serveArchive({ dataDir: join(dir, 'data') });
    let listed: string;
    let head: string;
    try {
      const seen = { temp: existsSync(temp), metadata: existsSync(`${key}._S3rver_metadata.json`) };
      // The sync's commit goes on: its object file is renamed into place.
      if (existsSync(temp)) await rename(temp, `${key}._S3rver_object`);
      else await copyFile(existing, `${key}._S3rver_object`);
      const client = new S3Client({
        endpoint: server.served.endpoint,
        region: server.served.region,
        forcePathStyle: true,
        credentials: {
          accessKeyId: server.served.accessKeyId,
          secretAccessKey: server.served.secretAccessKey,
        },
      });
      const objectKey = key.slice(bucket.length + 1);
      listed = await client.send(new ListObjectsV2Command({ Bucket: server.served.bucket })).then(
        (r) => `listed ${r.KeyCount} keys`,
        (e: Error) => `list failed: ${e.name} ${e.message}`,
      );
      head = await client.send(new HeadObjectCommand({ Bucket: server.served.bucket, Key: objectKey })).then(
        (r) => `head ok, metadata ${JSON.stringify(r.Metadata)}`,
        (e: Error) => `head failed: ${e.name}`,
      );
      client.destroy();
      expect.soft(seen, `after serve started: ${listed}; ${head}`).toEqual({ temp: true, metadata: true });
      // Once renamed in, the object carries its metadata (md5chksum and the CloudKit fields).
      expect(head, listed).toMatch(/^head ok, metadata \{.*"md5chksum"/);
    } finally {
      await server.stop();
    }
  });
});
