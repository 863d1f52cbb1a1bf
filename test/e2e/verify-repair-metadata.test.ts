/**
 * `icloud-s3 verify --repair` on an archive holding one object as the workers left videos over
 * 5 GiB before the multipart copy: a multipart upload, current, with the up-front metadata alone
 * (no `icloud-sha256`, no `md5chksum`) and the staging tag. Verify counts it `md5Unavailable`;
 * repair gives it the manifest's hashes in place (locally, and with `--aws` by the CLI itself),
 * with no request to Apple; the next verify compares its MD5.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAwsStack, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { ArchivedVersion } from '#domain/model/manifest.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { STAGING_TAG } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let synced: string;
let sessionFile: string;
let copies = 0;

type Report = Record<string, unknown> & {
  ok: boolean;
  status: string;
  checked: Record<string, number>;
  md5UnavailableObjects?: { key: string; etag: string }[];
  repair?: Record<string, unknown> & {
    metadataAdded: { key: string; etag: string }[];
    metadataNotAdded: unknown[];
    left: number;
  };
};

function cli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
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

type Target = { readonly args: readonly string[]; readonly env: Record<string, string> };

async function verify(target: Target, ...extra: string[]) {
  const run = await cli(
    ['verify', ...target.args, '--endpoint', sim.controlUrl, '--session-file', sessionFile, ...extra],
    target.env,
  );
  if (!extra.includes('--json')) return { ...run, report: undefined };
  try {
    return { ...run, report: JSON.parse(run.stdout) as Report };
  } catch {
    throw new Error(`verify printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  }
}

/** One archived original, rewritten as the earlier workers left it; returns it and its new ETag. */
async function makeItOld(stack: LocalAwsStack): Promise<{ version: ArchivedVersion; etag: string }> {
  let version: ArchivedVersion | undefined;
  for await (const entry of stack.state.entries()) {
    version = entry.versions.find((v) => v.kind === 'original');
    if (version !== undefined) break;
  }
  if (version === undefined) throw new Error('nothing archived');
  const read = await stack.objects.getStream(version.key);
  const bytes = Buffer.concat(await read!.body.toArray());
  const { 'icloud-sha256': _sha, md5chksum: _md5, ...upfront } = read!.head.metadata;
  const s3 = stack.clients.s3;
  const where = { Bucket: stack.bucket, Key: version.key };
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      ...where,
      ContentType: read!.head.contentType,
      Metadata: upfront,
      Tagging: `${STAGING_TAG.key}=${STAGING_TAG.value}`,
    }),
  );
  const part = await s3.send(new UploadPartCommand({ ...where, UploadId, PartNumber: 1, Body: bytes }));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      ...where,
      UploadId,
      MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
    }),
  );
  return { version, etag: (done.ETag ?? '').replaceAll('"', '') };
}

async function objectNow(stack: LocalAwsStack, key: string) {
  const where = { Bucket: stack.bucket, Key: key };
  const head = await stack.clients.s3.send(new HeadObjectCommand(where));
  const tags = (await stack.clients.s3.send(new GetObjectTaggingCommand(where))).TagSet ?? [];
  return { etag: (head.ETag ?? '').replaceAll('"', ''), metadata: head.Metadata ?? {}, tags };
}

function awsTarget(stack: LocalAwsStack): Target {
  return {
    args: ['--aws', '--bucket', stack.bucket, '--table', stack.table, '--queue-url', stack.queues.queueUrl],
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
  };
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 4, seed: 7 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-repair-metadata-'));
  sessionFile = join(dir, 'session.json');
  synced = join(dir, 'synced');
  const signedIn = await signInToSimulator(sim, sessionFile);
  const summary = await runLocalSync({ ...LIBRARY_ONLY, dataDir: synced, ...signedIn, logger });
  expect(summary.assets.failed).toBe(0);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function archiveCopy(): Promise<string> {
  const copy = join(dir, `copy-${++copies}`);
  await cp(synced, copy, { recursive: true });
  return copy;
}

describe('verify --repair over a video archived without its late metadata', () => {
  it('locally: verify leaves it md5Unavailable; repair adds icloud-sha256 and md5chksum and drops the tag, asking Apple nothing', async () => {
    const copy = await archiveCopy();
    let stack = await openLocalAwsStack({ dataDir: copy });
    const { version, etag } = await makeItOld(stack).finally(() => stack.stop());
    const target = { args: ['--local', copy], env: {} };

    const found = await verify(target, '--no-icloud', '--json');
    const control = controlClient(sim);
    await control.resetStats();
    const repaired = await verify(target, '--no-icloud', '--repair', '--json');
    const asked = await control.stats();
    const after = await verify(target, '--no-icloud', '--json');
    const human = await verify(target, '--no-icloud');

    expect(found.code).toBe(0);
    expect(found.report?.checked).toMatchObject({ md5Unavailable: 1 });
    expect(found.report?.md5UnavailableObjects).toEqual([
      expect.objectContaining({ key: version.key, etag }),
    ]);
    expect(repaired.code).toBe(0);
    expect(repaired.report?.repair).toMatchObject({
      metadataAdded: [{ key: version.key, etag: expect.any(String) }],
      metadataNotAdded: [],
      requeued: [],
      left: 0,
    });
    expect(asked.total).toBe(0);
    expect(after.report?.checked).toMatchObject({ md5Unavailable: 0 });
    expect(after.report?.md5UnavailableObjects).toEqual([]);
    expect(human.stderr).not.toContain('state no MD5');
    stack = await openLocalAwsStack({ dataDir: copy });
    try {
      const now = await objectNow(stack, version.key);
      expect(now.metadata).toMatchObject({
        'icloud-sha256': version.sha256,
        md5chksum: Buffer.from(version.md5, 'hex').toString('base64'),
      });
      expect(now.tags).toEqual([]);
      const read = await stack.objects.getStream(version.key);
      const bytes = Buffer.concat(await read!.body.toArray());
      expect(bytes.length).toBe(version.size);
    } finally {
      await stack.stop();
    }
  });

  it('says so in human text', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    const { version } = await makeItOld(stack).finally(() => stack.stop());

    const found = await verify({ args: ['--local', copy], env: {} }, '--no-icloud');
    const repaired = await verify({ args: ['--local', copy], env: {} }, '--no-icloud', '--repair');

    expect(found.stderr).toContain('1 objects state no MD5');
    expect(found.stderr).toContain('--repair gives them');
    expect(repaired.stdout).toContain(`added md5chksum and icloud-sha256 to ${version.key}`);
    expect(repaired.stdout).toContain('added MD5 and SHA-256 metadata to 1 object');
    expect(repaired.code).toBe(0);
  });

  it('with --aws: the CLI rewrites it itself, nothing is queued', async () => {
    const copy = await archiveCopy();
    const stack = await openLocalAwsStack({ dataDir: copy });
    try {
      const { version, etag } = await makeItOld(stack);
      const target = awsTarget(stack);

      const repaired = await verify(target, '--no-icloud', '--repair', '--json');
      const after = await verify(target, '--no-icloud', '--json');

      expect(repaired.report?.repair).toMatchObject({
        workers: 'deployed',
        metadataAdded: [{ key: version.key, etag: expect.any(String) }],
        itemsEnqueued: 0,
        messagesSent: 0,
        left: 0,
      });
      expect(repaired.code).toBe(0);
      expect(after.report?.checked).toMatchObject({ md5Unavailable: 0 });
      const now = await objectNow(stack, version.key);
      expect(now.etag).not.toBe(etag);
      expect(now.metadata).toMatchObject({ 'icloud-sha256': version.sha256 });
      expect(now.tags).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});
