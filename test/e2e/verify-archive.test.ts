import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type CliRun, runCli } from '#test/helpers/run-cli.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let synced: string;
let sessionFile: string;
let copies = 0;

/** Runs `icloud-s3 <args>` in a child process, as a person would. */
function cli(args: readonly string[]): Promise<CliRun> {
  return runCli(args);
}

/** `verify --json` on `dataDir` against the simulator. */
async function verify(dataDir: string, ...extra: string[]) {
  const run = await cli([
    'verify',
    '--local',
    dataDir,
    '--endpoint',
    sim.controlUrl,
    '--session-file',
    sessionFile,
    '--json',
    ...extra,
  ]);
  return {
    ...run,
    report: JSON.parse(run.stdout) as Record<string, unknown> &
      Record<'missing' | 'extra' | 'sizeMismatches' | 'checksumMismatches', unknown[]>,
  };
}

/** A private copy of the synced archive (servers stopped), so each test damages its own. */
async function archiveCopy(): Promise<string> {
  const copy = join(dir, `copy-${++copies}`);
  await cp(synced, copy, { recursive: true });
  return copy;
}

/** Opens the local stack on `dataDir`, hands it to `change`, stops it. */
async function withStack<T>(
  dataDir: string,
  change: (stack: Awaited<ReturnType<typeof openLocalAwsStack>>) => Promise<T>,
) {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    return await change(stack);
  } finally {
    await stack.stop();
  }
}

async function firstArchivedVersion(dataDir: string) {
  return withStack(dataDir, async (stack) => {
    for await (const entry of stack.state.entries()) {
      const version = (entry as ManifestEntry).versions[0];
      if (version !== undefined) return version;
    }
    throw new Error('the synced archive has no archived version');
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 16, seed: 5 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-verify-'));
  sessionFile = join(dir, 'session.json');
  synced = join(dir, 'synced');
  const signedIn = await signInToSimulator(sim, sessionFile);
  const summary = await runLocalSync({
    dataDir: synced,
    ...signedIn,
    logger: createLogger({ level: 'SILENT' }),
  });
  expect(summary.assets.failed).toBe(0);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 verify on a local archive against the simulator', () => {
  it('exits 0 and lists nothing when iCloud, the manifest and the bucket agree', async () => {
    const { code, report } = await verify(await archiveCopy());

    expect(report).toMatchObject({
      status: 'ok',
      ok: true,
      missing: [],
      extra: [],
      sizeMismatches: [],
      checksumMismatches: [],
    });
    const checked = report['checked'] as Record<string, number | boolean>;
    expect(checked['library']).toBe(true);
    expect(checked['libraryAssets']).toBeGreaterThan(0);
    expect(checked['md5Compared']).toBe(checked['manifestObjects']);
    expect(code).toBe(0);
  });

  it('reports a deleted object as missing and exits 5', async () => {
    const copy = await archiveCopy();
    const victim = await firstArchivedVersion(copy);
    await withStack(copy, (stack) => stack.objects.delete(victim.key));

    const { code, report } = await verify(copy);

    expect(report.missing).toEqual([expect.objectContaining({ type: 'objectMissing', key: victim.key })]);
    expect([report.extra, report.sizeMismatches, report.checksumMismatches]).toEqual([[], [], []]);
    expect(code).toBe(5);
  });

  it('reports a truncated object (same key, fewer bytes) as a size mismatch and exits 5', async () => {
    const copy = await archiveCopy();
    const victim = await firstArchivedVersion(copy);
    await withStack(copy, async (stack) => {
      const original = await stack.objects.getStream(victim.key);
      const bytes = Buffer.concat(await original!.body.toArray());
      await stack.clients.s3.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: victim.key,
          Body: bytes.subarray(0, Math.floor(bytes.length / 2)),
          Metadata: original!.head.metadata,
        }),
      );
    });

    const { code, report } = await verify(copy);

    expect(report.sizeMismatches).toEqual([
      expect.objectContaining({
        key: victim.key,
        expected: victim.size,
        actual: Math.floor(victim.size / 2),
      }),
    ]);
    expect([report.missing, report.extra, report.checksumMismatches]).toEqual([[], [], []]);
    expect(code).toBe(5);
  });

  it('reports an object no manifest entry references as extra and exits 5', async () => {
    const copy = await archiveCopy();
    const strayKey = 'library/2020/2020-01-01/not-from-icloud.jpg';
    await withStack(copy, (stack) =>
      stack.clients.s3.send(
        new PutObjectCommand({ Bucket: stack.bucket, Key: strayKey, Body: 'stray bytes' }),
      ),
    );

    const { code, report } = await verify(copy);

    expect(report.extra).toEqual([{ type: 'unreferencedObject', key: strayKey, size: 11 }]);
    expect([report.missing, report.sizeMismatches, report.checksumMismatches]).toEqual([[], [], []]);
    expect(code).toBe(5);
  });

  it('reports a flipped byte (same size) as an MD5 mismatch and exits 5', async () => {
    const copy = await archiveCopy();
    const victim = await firstArchivedVersion(copy);
    await withStack(copy, async (stack) => {
      const original = await stack.objects.getStream(victim.key);
      const bytes = Buffer.concat(await original!.body.toArray());
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      await stack.clients.s3.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: victim.key,
          Body: bytes,
          Metadata: original!.head.metadata,
        }),
      );
    });

    const { code, report } = await verify(copy, '--no-icloud');

    expect(report.checksumMismatches).toEqual([
      expect.objectContaining({ key: victim.key, algorithm: 'md5', source: 'etag', expected: victim.md5 }),
    ]);
    expect([report.missing, report.extra, report.sizeMismatches]).toEqual([[], [], []]);
    expect(code).toBe(5);
  });

  it('with --deep, re-reads every archived object and finds its SHA-256 as recorded', async () => {
    const { code, report } = await verify(await archiveCopy(), '--no-icloud', '--deep');

    const checked = report['checked'] as Record<string, number | boolean>;
    expect(checked['library']).toBe(false);
    expect(checked['contentHashed']).toBe(checked['manifestObjects']);
    expect(report['ok']).toBe(true);
    expect(code).toBe(0);
  });
});
