/**
 * `icloud-s3 verify --repair` end to end, on a local archive and on the deployed-stack view
 * (`--aws`) of the local AWS servers: sync, damage the archive four ways (an object removed, one
 * truncated, one corrupted at the same size, a stray object added), verify finds each, repair
 * fixes them, and the next `verify` and `verify --deep` are clean.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { type LocalAwsStack, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { localDownloadDeps } from '#compose/local-workers.ts';
import type { ArchivedVersion, ManifestEntry } from '#domain/model/manifest.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { drainWorkQueue } from '#local/drain-work-queue.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const STRAY_KEY = 'library/2020/2020-01-01/not-from-icloud.jpg';
const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let signedIn: SignedIn;
let dir: string;
let synced: string;
let sessionFile: string;
let copies = 0;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Report = Record<string, unknown> &
  Record<'missing' | 'extra' | 'sizeMismatches' | 'checksumMismatches', { key?: string; type?: string }[]> & {
    repair?: Record<string, unknown> & { removed: string[]; kept: { subject: string }[]; left: number };
  };

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Where `verify` looks: a local archive folder, or the `--aws` view of a running local stack. */
type Target = { readonly args: readonly string[]; readonly env: Record<string, string> };

async function verify(target: Target, ...extra: string[]): Promise<CliRun & { report: Report }> {
  const run = await cli(
    [
      'verify',
      ...target.args,
      '--endpoint',
      sim.controlUrl,
      '--session-file',
      sessionFile,
      '--json',
      ...extra,
    ],
    target.env,
  );
  try {
    return { ...run, report: JSON.parse(run.stdout) as Report };
  } catch {
    throw new Error(`verify printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  }
}

async function archiveCopy(): Promise<string> {
  const copy = join(dir, `copy-${++copies}`);
  await cp(synced, copy, { recursive: true });
  return copy;
}

/** Three archived objects of different assets, and what they were. */
async function victims(stack: LocalAwsStack): Promise<ArchivedVersion[]> {
  const chosen: ArchivedVersion[] = [];
  for await (const entry of stack.state.entries()) {
    const version = (entry as ManifestEntry).versions.find((v) => v.kind === 'original');
    if (version !== undefined && !chosen.some((c) => c.key === version.key)) chosen.push(version);
    if (chosen.length === 3) return chosen;
  }
  throw new Error('the synced archive has fewer than three archived assets');
}

/** Removes one object, truncates one, corrupts one (same size, other bytes), adds a stray one. */
async function damage(
  stack: LocalAwsStack,
): Promise<{ removed: string; truncated: string; corrupted: string }> {
  const [removed, truncated, corrupted] = await victims(stack);
  if (removed === undefined || truncated === undefined || corrupted === undefined)
    throw new Error('no victims');
  await stack.objects.delete(removed.key);
  for (const [victim, change] of [
    [truncated, (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length / 2))],
    [
      corrupted,
      (bytes: Buffer) => {
        const copy = Buffer.from(bytes);
        copy[10] = (copy[10] ?? 0) ^ 0xff;
        return copy;
      },
    ],
  ] as const) {
    const original = await stack.objects.getStream(victim.key);
    const bytes = Buffer.concat(await original!.body.toArray());
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: victim.key,
        Body: change(bytes),
        Metadata: original!.head.metadata,
      }),
    );
  }
  await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.bucket, Key: STRAY_KEY, Body: 'stray bytes' }),
  );
  return { removed: removed.key, truncated: truncated.key, corrupted: corrupted.key };
}

function expectDamageFound(report: Report, keys: { removed: string; truncated: string; corrupted: string }) {
  expect(report.missing).toEqual([expect.objectContaining({ type: 'objectMissing', key: keys.removed })]);
  expect(report.sizeMismatches).toEqual([expect.objectContaining({ key: keys.truncated })]);
  expect(report.checksumMismatches).toEqual([expect.objectContaining({ key: keys.corrupted })]);
  expect(report.extra).toEqual([expect.objectContaining({ type: 'unreferencedObject', key: STRAY_KEY })]);
}

/** The stray object alone under keep, nothing at all under mirror. */
function expectClean(report: Report, policy: 'keep' | 'mirror') {
  expect([report.missing, report.sizeMismatches, report.checksumMismatches]).toEqual([[], [], []]);
  expect(report.extra).toEqual(
    policy === 'keep' ? [expect.objectContaining({ type: 'unreferencedObject', key: STRAY_KEY })] : [],
  );
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 16, seed: 5 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-repair-'));
  sessionFile = join(dir, 'session.json');
  synced = join(dir, 'synced');
  signedIn = await signInToSimulator(sim, sessionFile);
  const summary = await runLocalSync({ ...LIBRARY_ONLY, dataDir: synced, ...signedIn, logger });
  expect(summary.assets.failed).toBe(0);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 verify --repair on a local archive', () => {
  for (const policy of ['mirror', 'keep'] as const) {
    it(`re-archives the removed, truncated and corrupted objects; under ${policy} the stray object is ${policy === 'mirror' ? 'removed' : 'reported and kept'}`, async () => {
      const copy = await archiveCopy();
      const stack = await openLocalAwsStack({ dataDir: copy });
      const keys = await damage(stack).finally(() => stack.stop());
      const target = { args: ['--local', copy], env: {} };

      const found = await verify(target);
      const repaired = await verify(
        target,
        '--repair',
        '--delete-policy',
        policy,
        '--max-delete-fraction',
        '0.5',
      );
      const after = await verify(target);
      const deep = await verify(target, '--deep', '--no-icloud');

      expect(found.code).toBe(5);
      expectDamageFound(found.report, keys);
      expect(repaired.report.repair).toMatchObject({
        workers: 'local',
        objectsReplaced: 3,
        removed: policy === 'mirror' ? [STRAY_KEY] : [],
        kept: policy === 'mirror' ? [] : [expect.objectContaining({ subject: STRAY_KEY })],
        unrepairable: [],
        work: { failed: 0, deadLetters: 0, versionsArchived: 3 },
      });
      expect(repaired.code).toBe(policy === 'mirror' ? 0 : 5);
      expectClean(after.report, policy);
      expectClean(deep.report, policy);
      expect(after.code).toBe(policy === 'mirror' ? 0 : 5);
      expect((deep.report['checked'] as Record<string, number>)['contentHashed']).toBeGreaterThan(0);
    });
  }

  it('records where each object is for an archive a release before 2026-12-07 made, once (finding 29’s backfill)', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    const objectIds = new Set<string>();
    try {
      // As the older release left it: entries and claims, no `objectKey#` item.
      for await (const entry of stack.state.entries())
        for (const v of entry.versions) {
          const objectId = objectIdOf(entry.masterRecordName, v.kind, v.fileChecksum);
          objectIds.add(objectId);
          await stack.state.forgetObjectKey(objectId, v.key);
        }
    } finally {
      await stack.stop();
    }
    const target = { args: ['--local', copy, '--no-icloud'], env: {} };

    const repaired = await verify(target, '--repair');
    const again = await verify(target, '--repair');

    expect(objectIds.size).toBeGreaterThan(0);
    expect(repaired.code).toBe(0);
    expect(repaired.report['status']).toBe('ok');
    expect(repaired.report.repair).toMatchObject({ objectKeysRecorded: objectIds.size, requeued: [] });
    expect(again.report.repair).toMatchObject({ objectKeysRecorded: 0 });
    const reopened = await openLocalAwsStack({ dataDir: copy });
    const recorded = await reopened.state
      .getEntriesAndObjectKeys([], [...objectIds])
      .finally(() => reopened.stop());
    expect(recorded.objectKeys.size).toBe(objectIds.size);
  });

  it('says what it did in human text', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    const keys = await damage(stack).finally(() => stack.stop());

    const run = await cli([
      'verify',
      '--local',
      copy,
      '--endpoint',
      sim.controlUrl,
      '--session-file',
      sessionFile,
      '--repair',
      '--max-delete-fraction',
      '0.5',
    ]);

    expect(run.stdout).toContain(`${keys.removed} (missing)`);
    expect(run.stdout).toContain(`${keys.truncated} (truncated)`);
    expect(run.stdout).toContain(`${keys.corrupted} (corrupt)`);
    expect(run.stderr).toContain(`left ${STRAY_KEY}`);
    expect(run.code).toBe(5);
  });

  it('replaces no truncated or corrupt object when they are more than one run may delete, and says how to go ahead (audit finding 13)', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    const keys = await damage(stack).finally(() => stack.stop());
    const target = { args: ['--local', copy], env: {} };

    // The default 5 % of this small bucket is less than the two objects to replace.
    const repaired = await verify(target, '--repair');
    const after = await verify(target, '--no-icloud');

    expect(repaired.code).toBe(5);
    expect(repaired.report.repair).toMatchObject({
      refused: { objects: 2 },
      requeued: [expect.objectContaining({ objects: [{ key: keys.removed, reason: 'missing' }] })],
    });
    expect(repaired.stderr).toContain('Refused to delete and re-archive 2 objects');
    expect(repaired.stderr).toMatch(/To replace them all, run: .*--max-delete-fraction 0\.\d+/);
    // What is missing is still archived; the two objects are where they were.
    expect(after.report.missing).toEqual([]);
    expect(after.report.sizeMismatches).toEqual([expect.objectContaining({ key: keys.truncated })]);
    expect(after.report.checksumMismatches).toEqual([expect.objectContaining({ key: keys.corrupted })]);
  });
});

describe('icloud-s3 verify --aws --repair against the local AWS servers', () => {
  it('refuses --repair --aws without a work queue before checking anything (exit 2)', async () => {
    const run = await cli(['verify', '--aws', '--bucket', 'b', '--table', 't', '--repair'], {
      WORK_QUEUE_URL: '',
    });

    expect(run.stderr).toContain('--queue-url');
    expect(run.code).toBe(2);
  });

  it('queues the re-archive work for the deployed workers; once they ran, verify is clean', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    const icloud = await openIcloudAdapters({ ...signedIn, logger });
    try {
      const keys = await damage(stack);
      const target = {
        args: [
          '--aws',
          '--bucket',
          stack.bucket,
          '--table',
          stack.table,
          '--queue-url',
          stack.queues.queueUrl,
        ],
        env: {
          AWS_REGION: 'us-east-1',
          // s3rver knows one key pair; the other local servers accept any.
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
          AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
          AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
          AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
          AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
        },
      };

      const found = await verify(target);
      const repaired = await verify(
        target,
        '--repair',
        '--delete-policy',
        'mirror',
        '--max-delete-fraction',
        '0.5',
      );
      // The deployed workers: the download handler over the stack's queue.
      const drained = await drainWorkQueue(
        stack,
        localDownloadDeps({
          state: stack.state,
          objects: stack.objects,
          icloud: async () => icloud,
          versionPolicy: DEFAULT_VERSION_POLICY,
          deleteMode: 'mirror',
          logger,
          onMessage: () => undefined,
        }),
      );
      const after = await verify(target);
      const deep = await verify(target, '--deep', '--no-icloud');

      expect(found.code).toBe(5);
      expectDamageFound(found.report, keys);
      expect(repaired.report.repair).toMatchObject({
        workers: 'deployed',
        objectsReplaced: 3,
        removed: [STRAY_KEY],
        unrepairable: [],
        left: 0,
      });
      expect(repaired.report.repair?.['itemsEnqueued']).toBeGreaterThanOrEqual(3);
      expect(repaired.code).toBe(0);
      expect(drained.deadLetters).toBe(0);
      expectClean(after.report, 'mirror');
      expectClean(deep.report, 'mirror');
      expect(after.code).toBe(0);
    } finally {
      await icloud.session.save().catch(() => undefined);
      await stack.stop();
    }
  });
});
