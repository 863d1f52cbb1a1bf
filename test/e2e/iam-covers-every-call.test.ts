/**
 * Every AWS call a deployed function makes is allowed by that function's role in the synthesized
 * stack. The local servers check no IAM, so a call the role does not allow (a transaction's
 * ConditionCheck needing dynamodb:ConditionCheckItem, a tag sent with an upload needing
 * s3:PutObjectTagging) passes every other test and is refused only on AWS.
 *
 * How: the stack is synthesized (`keep`, and `mirror`), and each function is composed as its Lambda
 * entry composes it (`composeDetector`, `composeDownloader`) with the environment the template
 * gives it, its resource names resolved to local servers (and Apple's endpoint to the simulator).
 * A middleware on every SDK client the composition lists (`awsClients`) records each call as the
 * IAM requests AWS authorizes for it (test/helpers/iam/sdk-call-recorder.ts: action, resource and
 * DynamoDB's leading keys, a transaction item by item), while the pipeline does real work: a first
 * sync with Shared Albums, versions under a version policy, XMP sidecars and a video larger than
 * an upload part (multipart, then its CopyObject), one over the copy limit through the workers'
 * client (multipart, then its part copies: UploadPartCopy), one resumed in a second "invocation"
 * (ListParts), album and library changes, an upload aborted by
 * a broken download, dead letters redriven, the catalog folded, then, redeployed under `mirror`, a
 * purge that deletes and uncounts. Each request is checked against the function's role statements
 * (test/helpers/iam/role-policy.ts: Allow/Deny, action and resource wildcards, and the one
 * condition the stack uses, `ForAllValues:StringLike` on `dynamodb:LeadingKeys`; any other
 * condition fails the test until it is taught). A call not allowed fails naming the function, the
 * call and the missing grant.
 *
 * The `mirror` synth encrypts the bucket with SSE-KMS: the KMS requests S3 makes with the
 * caller's permissions (GenerateDataKey to write, Decrypt to read) are checked against it too.
 * The Lambda service's own calls with the worker's role (the SQS event source: played here by the
 * local poller, unrecorded) are checked from the actions AWS documents for it.
 *
 * Not checked here: the session secret's resource policy (test/infra/least-privilege.test.ts).
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import type { DetectionRunResult } from '#app/detection-run.ts';
import type { AwsSdkClient } from '#compose/lambda.ts';
import { composeDetector } from '#compose/lambda-detector.ts';
import { composeDownloader } from '#compose/lambda-downloader.ts';
import { SkipBytes } from '#domain/archive/resumable-transfer.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { countMessages, pollUntilEmpty } from '#local/drain-work-queue.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import type { WorkQueueUrls } from '#local/servers/provision.ts';
import { pollOnce } from '#local/sqs-event-source.ts';
import type { MediaDownloader } from '#ports/media-download.ts';
import { ENV, SERVICE_NAMES } from '#shared/env-names.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';
import { putDeadLetter } from '#test/helpers/deployed/dead-letter.ts';
import {
  type DeployedFunction,
  lambdaSdkEnvironment,
  localResourcesOf,
  templateEnvironmentOf,
} from '#test/helpers/deployed/function-environment.ts';
import { type LocalResources, RolePolicy, TemplateResolver } from '#test/helpers/iam/role-policy.ts';
import {
  HARNESS_HEADER,
  RECORDED_HEADER,
  type RecordedCall,
  SdkCallRecorder,
} from '#test/helpers/iam/sdk-call-recorder.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';
import type { TruthAssetDetail } from '#test/helpers/pipeline-harness.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { UPLOAD_PART_SIZE_MIB } from '../../infra/download-workers.ts';
import { type Synthesised, statementsOfRole, synthesise } from '../infra/synth.ts';

type Fn = DeployedFunction;
const FUNCTIONS: readonly Fn[] = ['detector', 'workers'];

/**
 * Settings that make the functions do more: extra versions, sidecars, a checksum on every upload
 * part (Object Lock); `mirror` may delete.
 */
const COMMON_CONTEXT = { xmpSidecars: 'true', versionPolicy: 'default,medium', objectLockMode: 'governance' };
/** `mirror` with SSE-KMS: every S3 call's KMS requests are checked against it too. */
const MIRROR_CONTEXT = {
  ...COMMON_CONTEXT,
  deletePolicy: 'mirror',
  maxDeleteFraction: 1,
  kmsEncryption: 'true',
};

/** The workers' upload part. */
const UPLOAD_PART_BYTES = UPLOAD_PART_SIZE_MIB * 1024 * 1024;
/** Three of the worker's 8 MiB upload parts: a multipart upload, then its CopyObject. */
const VIDEO_BYTES = 20 * 1024 * 1024;
/**
 * Where the second video's download breaks: in its third part, long after the upload was created
 * (lib-storage aborts only an upload whose id it already has).
 */
const BROKEN_AFTER_BYTES = 17 * 1024 * 1024;

let keep: Synthesised;
let mirror: Synthesised;
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let aws: TestAws;
let queues: WorkQueueUrls;
let local: LocalResources;
let dir: string;
/** The SDK clients the compositions built, destroyed at the end. */
const composedClients: AwsSdkClient[] = [];
const savedEnv = { ...process.env };
const recorder = new SdkCallRecorder({ partitionKey: 'pk' });
/** The calls made while deployed under each synth. */
const phases: { synth: () => Synthesised; calls: RecordedCall[]; checkedAlsoBy?: () => Synthesised }[] = [];

/** The role statements of `fn` in `synth`. */
const statements = (synth: Synthesised, fn: Fn) =>
  statementsOfRole(synth.template, synth.stack, synth.stack[fn].fn.role);

/** `fn`'s environment in the template, resolved to the local resources. */
const environmentOf = (synth: Synthesised, fn: Fn): NodeJS.ProcessEnv => ({
  ...templateEnvironmentOf(synth, fn, local),
  [ENV.icloudEndpoint]: sim.controlUrl,
  [ENV.logLevel]: 'SILENT',
});

interface Deployment {
  /** The workers' S3 client, recorded as theirs. */
  readonly workersS3: S3Client;
  /** One schedule tick: the detector until it has caught up (redrive first, fold last). */
  tick(): Promise<DetectionRunResult>;
  /** The work queue drained by the download workers. */
  drain(): Promise<void>;
  /**
   * One worker invocation over the queue whose videos pause after their first part: each goes on
   * in a new work message the workers send themselves (their lazily built SQS client).
   */
  pauseOnce(): Promise<void>;
}

/** Serves `limit` bytes of each body, then nothing more (the rest of the invocation goes by). */
function stallingAfter(downloader: MediaDownloader, limit: number): MediaDownloader {
  return {
    open: async (url, options) => {
      const download = await downloader.open(url, options);
      let left = limit;
      const body = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          if (left <= 0) return; // held: nothing more comes this invocation
          const kept = chunk.subarray(0, left);
          left -= kept.length;
          callback(null, kept);
        },
      });
      download.body.pipe(body);
      body.on('close', () => download.body.destroy());
      return { ...download, body };
    },
  };
}

/** Composes both functions as their Lambda entries do, from `synth`'s environment, recording their calls. */
function deploy(synth: Synthesised, calls: RecordedCall[]): Deployment {
  const detector = composeDetector(environmentOf(synth, 'detector'), SERVICE_NAMES.detectChanges);
  // A client the workers build later (the continuation's SQS client) is recorded as theirs too.
  const workers = composeDownloader(environmentOf(synth, 'workers'), SERVICE_NAMES.downloadAssets, {
    onAwsClient: (client) => {
      recorder.attach('workers', client);
      composedClients.push(client);
    },
  });
  const start = recorder.calls.length;
  const collect = () => calls.splice(0, calls.length, ...recorder.calls.slice(start));
  for (const client of detector.awsClients) recorder.attach('detector', client);
  for (const client of workers.awsClients) recorder.attach('workers', client);
  composedClients.push(...detector.awsClients, ...workers.awsClients);
  const detect = createDetectHandler(detector.detection, detector.redrive);
  const download = createDownloadHandler(workers.downloads);
  const sqs = { client: aws.sqs, endpoint: aws.aws.endpoints.sqs, queues };
  const workersS3 = workers.awsClients.find((client) => client instanceof S3Client);
  if (workersS3 === undefined) throw new Error('the workers compose no S3 client');
  return {
    workersS3,
    async tick() {
      for (;;) {
        const result = await detect({}, createLambdaContext('detect-changes', 5 * 60_000));
        collect();
        if (result.outcome !== 'continued') return result;
      }
    },
    async drain() {
      await pollUntilEmpty(sqs, download, 2);
      collect();
    },
    async pauseOnce() {
      const { downloads } = workers;
      const pausing = createDownloadHandler({
        ...downloads,
        archive: { ...downloads.archive, resumableFromBytes: MIN_PART_SIZE },
        icloud: async () => {
          const connection = await downloads.icloud();
          return { ...connection, downloader: stallingAfter(connection.downloader, UPLOAD_PART_BYTES + 1) };
        },
        pauseLeadMs: 8_000,
      });
      // The pause 3 s in (the first part stored by then), the uploads' abort 8 s later.
      const remainingMs = downloads.reserveMs + 8_000 + 3_000;
      const outcome = await pollOnce({
        sqs: aws.sqs,
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handler: pausing,
        context: () => createLambdaContext('download-assets', remainingMs),
      });
      if (outcome?.failed !== 0) throw new Error('the paused video was not sent on: its message failed');
      collect();
    },
  };
}

/**
 * Every HTTP request this process sends to the local AWS servers (Node's `http.client.request.start`
 * channel): one that neither a recorded client nor the test's own sent came from an SDK client the
 * composition did not list in `awsClients`, and its call went unchecked.
 */
const wire = { recorded: 0, unmarked: [] as string[], hosts: new Set<string>(), parts: 0, partsWithCrc32: 0 };
const onRequest = (message: unknown) => {
  const { request } = message as { request: ClientRequest };
  const host = String(request.getHeader('host'));
  if (!wire.hosts.has(host)) return;
  // Uploaded parts (an UploadPartCopy sends no body, so no checksum).
  if (
    request.method === 'PUT' &&
    request.path.includes('partNumber=') &&
    request.getHeader('x-amz-copy-source') === undefined
  ) {
    wire.parts += 1;
    if (request.getHeader('x-amz-checksum-crc32') !== undefined) wire.partsWithCrc32 += 1;
  }
  if (request.getHeader(RECORDED_HEADER) !== undefined) wire.recorded += 1;
  else if (request.getHeader(HARNESS_HEADER) === undefined)
    wire.unmarked.push(`${request.method} ${host}${request.path}`);
};

/**
 * A video over the copy limit (10 MiB here; 5 GiB on S3) put through the workers' own client, as
 * their store puts one: the multipart upload, then its rewrite in part copies (UploadPartCopy).
 * The Lambda composition keeps S3's 5 GiB limit, which no test video reaches.
 */
async function putOverCopyLimit(client: S3Client, key: string): Promise<void> {
  const size = 12 * 1024 * 1024;
  const store = new S3ArchivingObjectStore({
    client,
    bucket: local.bucket.name,
    partSize: MIN_PART_SIZE,
    queueSize: 1,
    checksumParts: true,
    maxCopyBytes: 10 * 1024 * 1024,
  });
  await store.putStream(key, generatedStream(size).stream, {
    contentType: 'video/quicktime',
    contentLength: size,
    lateMetadata: (digest) => ({ sha256: digest.sha256 }),
  });
}

/**
 * A video too long for one invocation put through the workers' own client, as their store puts one
 * (docs/deploy.md, "Very large videos"): a resumable upload paused after its first part, then
 * resumed by a new store from the checkpoint (ListParts checks the parts S3 kept) and completed.
 */
async function putResumably(client: S3Client, key: string): Promise<void> {
  const size = 12 * 1024 * 1024;
  const store = () =>
    new S3ArchivingObjectStore({ client, bucket: local.bucket.name, partSize: MIN_PART_SIZE, queueSize: 1 });
  const options = {
    contentType: 'video/quicktime',
    contentLength: size,
    lateMetadata: (digest: { sha256: string }) => ({ sha256: digest.sha256 }),
  };
  const first = await store().openResumable(key, options, undefined);
  const pause = new AbortController();
  const body = generatedStream(size).stream;
  let read = 0;
  body.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > MIN_PART_SIZE) pause.abort();
  });
  const paused = await first.transfer(body, { pause: pause.signal, save: async () => undefined });
  if (!('paused' in paused)) throw new Error('the resumable upload did not pause');
  const second = await store().openResumable(key, options, paused.paused);
  const rest = generatedStream(size).stream;
  const fromOffset = rest.pipe(new SkipBytes(second.offset));
  const done = await second.transfer(fromOffset, { save: async () => undefined });
  if (!('done' in done)) throw new Error('the resumed upload did not complete');
}

/** Deletes (by hand, unrecorded) the archived original of `asset`: the object with its checksum. */
async function removeLibraryOriginal(bucket: string, asset: TruthAssetDetail): Promise<void> {
  const checksum = asset.versions.find((v) => v.kind === 'original')?.fileChecksum;
  const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'library/' }));
  for (const { Key } of listed.Contents ?? []) {
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    if (head.Metadata?.['icloud-checksum'] !== checksum) continue;
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    return;
  }
  throw new Error(`no archived original of ${asset.assetRecordName}`);
}

const truth = async () => (await control.library<{ assets: TruthAssetDetail[] }>()).assets;

beforeAll(async () => {
  keep = synthesise(COMMON_CONTEXT);
  mirror = synthesise(MIRROR_CONTEXT);
  sim = await startTestSimulator({ assets: 10, seed: 7 });
  control = controlClient(sim);
  aws = await startTestAws();
  for (const client of [aws.s3, aws.dynamodb, aws.sqs, aws.secretsManager]) recorder.markHarness(client);
  for (const endpoint of Object.values(aws.aws.endpoints)) wire.hosts.add(new URL(endpoint).host);
  subscribe('http.client.request.start', onRequest);
  const [bucket, table, secretId] = await Promise.all([
    aws.createBucket(),
    aws.createTable(),
    aws.createSecret(),
  ]);
  queues = await aws.createQueue({ maxReceiveCount: 2 });
  // Both synths name their resources alike (the key aside), so one resolver serves both.
  const names = { bucket, table, secretId, queues };
  local = localResourcesOf(mirror, names);
  const { key: _keepHasNoKey, ...withoutKey } = local;
  expect(localResourcesOf(keep, names)).toEqual(withoutKey);
  // `icloud-s3 login --aws`: the session in the secret.
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-iam-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  const session = await signedIn.store.load();
  if (session === undefined) throw new Error('sign-in stored no session');
  await new SecretsManagerSessionStore({ client: aws.secretsManager, secretId }).save(session.document);
  // The SDK's own environment, as Lambda gives it: region, credentials, and (here) the local endpoints.
  Object.assign(process.env, { ...lambdaSdkEnvironment(aws.aws.endpoints), POWERTOOLS_LOG_LEVEL: 'SILENT' });

  // Deployed under `keep`.
  const keepCalls: RecordedCall[] = [];
  phases.push({ synth: () => keep, calls: keepCalls, checkedAlsoBy: () => mirror });
  const underKeep = deploy(keep, keepCalls);
  await control.mutate({ op: 'add', kind: 'video', sizeBytes: VIDEO_BYTES });
  await underKeep.tick();
  await underKeep.drain();
  // A video too long for one invocation, alone on the queue: it pauses after its first part and
  // goes on in a new message the workers send (SendMessageBatch), then from its checkpoint (ListParts).
  await control.mutate({ op: 'add', kind: 'video', sizeBytes: VIDEO_BYTES });
  await underKeep.tick();
  await underKeep.pauseOnce();
  await underKeep.drain();
  await putOverCopyLimit(underKeep.workersS3, 'library/2024/01/01/IAM-LARGE.MOV');
  await putResumably(underKeep.workersS3, 'library/2024/01/01/IAM-RESUMED.MOV');
  const [edited, moved, trashed, posted] = (await truth()).filter((a) => a.kind !== 'video');
  if (edited === undefined || moved === undefined || trashed === undefined || posted === undefined)
    throw new Error('library too small');
  // One library photo posted to two new-generation Shared Albums while its original is missing
  // from the bucket (removed by hand): each item stores its own copy, so one album's item
  // references the other's object and releases the key it claimed (a DeleteItem on `key#…`,
  // under `keep` too).
  await removeLibraryOriginal(bucket, posted);
  const mutateShared = <T>(m: unknown) => control.call<T>('POST', '/sharedcollections/mutate', m);
  const sharedZones: string[] = [];
  for (const title of ['IAM ski', 'IAM ski again']) {
    const { zoneName } = await mutateShared<{ zoneName: string }>({ op: 'createAlbum', title });
    await mutateShared({ op: 'addItems', zoneName, fromLibrary: [posted.assetRecordName] });
    sharedZones.push(zoneName);
  }
  await control.mutate({ op: 'edit', assetRecordName: edited.assetRecordName });
  await control.mutate({ op: 'favorite', assetRecordName: moved.assetRecordName });
  await control.mutate({ op: 'create-album', name: 'IAM trip' });
  await control.mutate({ op: 'album-add', assetRecordName: moved.assetRecordName, album: 'IAM trip' });
  await control.mutate({ op: 'trash', assetRecordName: trashed.assetRecordName });
  await control.mutate({ op: 'purge', assetRecordName: trashed.assetRecordName });
  // CloudKit refuses the session once: the detector refreshes it and stores the refreshed one at
  // once (PutSecretValue; a cookie rotated alone waits its interval, functions/domain/session-saves.ts).
  await control.injectFault({ endpoint: 'changes/database', status: 401, count: 1 });
  await underKeep.tick();
  await control.clearFaults();
  await underKeep.drain();
  await control.mutate({ op: 'rename-album', album: 'IAM trip', name: 'IAM journey' });
  // A second video whose download breaks after the first part: the multipart upload is aborted,
  // and after its tries the work is dead-lettered.
  await control.mutate({ op: 'add', kind: 'video', sizeBytes: VIDEO_BYTES });
  await control.injectFault({ endpoint: 'cdn', mode: 'reset-mid-body', afterBytes: BROKEN_AFTER_BYTES });
  await underKeep.tick();
  await underKeep.drain();
  await control.clearFaults();
  // Dead-lettered work redriven recently waits: the redrive puts it back (ChangeMessageVisibility).
  await putDeadLetter(aws.sqs, queues.deadLetterQueueUrl, { redrives: 1, redrivenAt: Date.now() });
  expect(await countMessages(sqsView(), queues.deadLetterQueueUrl)).toBeGreaterThanOrEqual(2);
  await underKeep.tick();
  await underKeep.drain();
  await underKeep.tick();
  // A photo whose CDN answers 404 once is recorded failed and put on the retry list (UpdateItem of
  // its `retry#` item in the zone partition); the next tick queues it again, and once it is
  // archived the tick after takes it off the list (DeleteItem in the zone partition).
  await control.mutate({ op: 'add', kind: 'photo' });
  await control.injectFault({ endpoint: 'cdn', status: 404, count: 1 });
  await underKeep.tick();
  await underKeep.drain();
  await control.clearFaults();
  await underKeep.tick();
  await underKeep.drain();
  await underKeep.tick();
  // The two Shared Albums are deleted by their owner, one run apart: the list stores gone albums
  // apart, in parts, and the second departure's save deletes the parts the first one's wrote
  // (DeleteItem on `shared-albums-part#…`).
  // (The legacy listing and the shared database are checked in turn: a departure shows within two runs.)
  for (const zoneName of sharedZones) {
    await mutateShared({ op: 'deleteAlbum', zoneName });
    for (let run = 0; run < 2; run++) {
      await underKeep.tick();
      await underKeep.drain();
    }
  }

  // Redeployed under `mirror`: a purge deletes the objects and takes them out of the totals.
  const mirrorCalls: RecordedCall[] = [];
  phases.push({ synth: () => mirror, calls: mirrorCalls });
  const underMirror = deploy(mirror, mirrorCalls);
  await control.mutate({ op: 'trash', assetRecordName: edited.assetRecordName });
  await control.mutate({ op: 'purge', assetRecordName: edited.assetRecordName });
  await control.mutate({ op: 'delete-album', album: 'IAM journey' });
  await underMirror.tick();
  await underMirror.drain();
  await putOverCopyLimit(underMirror.workersS3, 'library/2024/01/01/IAM-LARGE-KMS.MOV');
  await putResumably(underMirror.workersS3, 'library/2024/01/01/IAM-RESUMED-KMS.MOV');
  await underMirror.tick();
}, 300_000);

const sqsView = () => ({ client: aws.sqs, endpoint: aws.aws.endpoints.sqs, queues });

afterAll(async () => {
  unsubscribe('http.client.request.start', onRequest);
  process.env = savedEnv;
  for (const client of composedClients) client.destroy();
  await aws?.stop();
  await sim?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Every request of `calls` that `synth`'s roles do not allow, as `function: call -> why`. */
function refused(synth: Synthesised, calls: readonly RecordedCall[], without?: (s: unknown) => boolean) {
  const resolver = new TemplateResolver(local);
  const roles = Object.fromEntries(
    FUNCTIONS.map((fn) => [
      fn,
      new RolePolicy(
        statements(synth, fn).filter((s) => !without?.(s)),
        resolver,
      ),
    ]),
  ) as Record<Fn, RolePolicy>;
  const out = new Set<string>();
  const sseKms = synth.stack.archive.encryptionKey !== undefined;
  for (const call of calls) {
    for (const request of [...call.requests, ...(sseKms ? call.sseKmsRequests : [])]) {
      const verdict = roles[call.fn as Fn].evaluate(request);
      if (!verdict.allowed) out.add(`${call.fn}: ${call.call} -> ${verdict.why}`);
    }
  }
  return [...out];
}

/** `function call action` of every request, to show what the scenario exercised. */
const exercised = (calls: readonly RecordedCall[]) =>
  new Set(calls.flatMap((c) => c.requests.map((r) => `${c.fn} ${c.call} ${r.action}`)));

/** The kinds (partition key up to its first `#`) of the items `fn`'s `action` requests touched. */
const leadingKinds = (calls: readonly RecordedCall[], fn: Fn, action: string) =>
  new Set(
    calls
      .filter((c) => c.fn === fn)
      .flatMap((c) => c.requests.filter((r) => r.action === action).flatMap((r) => r.leadingKeys ?? []))
      .map((key) => key.split('#')[0]),
  );

describe('every AWS call of a deployed function is allowed by its role', () => {
  it('maps every recorded call to IAM actions', () => {
    expect(recorder.unmapped).toEqual([]);
  });

  it('records every request the functions sent to AWS (no SDK client left out of `awsClients`)', () => {
    expect(wire.recorded).toBeGreaterThan(100);
    expect(wire.unmarked).toEqual([]);
  });

  it('exercises the calls that matter: multipart and its copy, an aborted upload, counted transactions, redrive, fold, sidecars, deletes', () => {
    const [underKeep, underMirror] = phases.map((p) => exercised(p.calls));
    expect([...(underKeep ?? [])]).toEqual(
      expect.arrayContaining([
        'workers S3.CreateMultipartUpload s3:PutObjectTagging',
        'workers S3.UploadPart s3:PutObject',
        'workers S3.CompleteMultipartUpload s3:PutObject',
        'workers S3.CopyObject s3:GetObject',
        'workers S3.UploadPartCopy s3:GetObject',
        'workers S3.UploadPartCopy s3:PutObject',
        'workers S3.AbortMultipartUpload s3:AbortMultipartUpload',
        // A video too long for one invocation, resumed from its checkpoint.
        'workers S3.ListParts s3:ListMultipartUploadParts',
        // ...and sent on in a new work message when it paused.
        'workers SQS.SendMessageBatch sqs:SendMessage',
        'workers S3.PutObject s3:PutObject',
        'workers S3.HeadObject s3:GetObject',
        'workers DynamoDB.TransactWriteItems dynamodb:ConditionCheckItem',
        'workers SecretsManager.GetSecretValue secretsmanager:GetSecretValue',
        'detector SQS.SendMessageBatch sqs:SendMessage',
        'detector SQS.ReceiveMessage sqs:ReceiveMessage',
        'detector SQS.SendMessage sqs:SendMessage',
        'detector SQS.DeleteMessage sqs:DeleteMessage',
        'detector SQS.ChangeMessageVisibilityBatch sqs:ChangeMessageVisibility',
        'detector S3.ListObjectsV2 s3:ListBucket',
        'detector S3.GetObject s3:GetObject',
        // The catalog fold's journal deletions (1,000 keys per request) and a removed album view's
        // two objects: the detector sends no single DeleteObject.
        'detector S3.DeleteObjects s3:DeleteObject',
        'detector SecretsManager.PutSecretValue secretsmanager:PutSecretValue',
      ]),
    );
    // Deployed with Object Lock: the workers sent a CRC32 with every part (S3ArchivingObjectStore).
    expect(environmentOf(keep, 'workers')[ENV.archiveObjectLock]).toBe('true');
    expect(wire.parts).toBeGreaterThan(0);
    expect(wire.partsWithCrc32).toBe(wire.parts);
    const detectorPuts = phases[0]!.calls.filter((c) => c.fn === 'detector' && c.call === 'S3.PutObject');
    const keys = detectorPuts.flatMap((c) =>
      c.requests.map((r) => (r.resource.kind === 's3Object' ? r.resource.key : '')),
    );
    expect(keys.some((k) => k.endsWith('.xmp'))).toBe(true);
    expect(keys.some((k) => k.startsWith('albums/'))).toBe(true);
    expect(keys.some((k) => k.startsWith('catalog/'))).toBe(true);
    const detectorDeletes = phases[0]!.calls
      .filter((c) => c.fn === 'detector' && c.call === 'S3.DeleteObjects')
      .flatMap((c) => c.requests.map((r) => (r.resource.kind === 's3Object' ? r.resource.key : '')));
    // A removed album view's objects, checked key by key like the journal's.
    expect(detectorDeletes.some((k) => k.startsWith('albums/'))).toBe(true);
    expect(detectorDeletes.some((k) => k.startsWith('catalog/journal/'))).toBe(true);
    expect(leadingKinds(phases[0]!.calls, 'workers', 'dynamodb:BatchWriteItem')).toContain('shared-item');
    // A Shared Album item referencing another album's copy releases the key it claimed, under keep.
    expect(leadingKinds(phases[0]!.calls, 'workers', 'dynamodb:DeleteItem')).toContain('key');
    // A failed photo's retry item: noted by the worker, dropped by the detector once archived.
    expect(leadingKinds(phases[0]!.calls, 'workers', 'dynamodb:UpdateItem')).toContain('zone');
    expect(leadingKinds(phases[0]!.calls, 'detector', 'dynamodb:DeleteItem')).toContain('zone');
    // A save that changed the gone Shared Albums drops the parts the replaced list named.
    expect(leadingKinds(phases[0]!.calls, 'detector', 'dynamodb:DeleteItem')).toContain('shared-albums-part');
    expect([...(underMirror ?? [])]).toEqual(
      expect.arrayContaining([
        'workers S3.DeleteObject s3:DeleteObject',
        'workers S3.UploadPartCopy s3:GetObject',
      ]),
    );
    // The purge releases the key claims of what it deleted, and uncounts them in a transaction.
    expect(leadingKinds(phases[1]!.calls, 'workers', 'dynamodb:DeleteItem')).toContain('key');
    // ... and forgets their recorded keys (objectKey#<objectId>), which the claims wrote beside them.
    expect(leadingKinds(phases[1]!.calls, 'workers', 'dynamodb:DeleteItem')).toContain('objectKey');
    expect(leadingKinds(phases[0]!.calls, 'workers', 'dynamodb:PutItem')).toContain('objectKey');
    expect(leadingKinds(phases[1]!.calls, 'workers', 'dynamodb:UpdateItem')).toContain('key');
  });

  for (const [index, name] of ['keep', 'mirror'].entries()) {
    it(`under ${name}: each function's role allows every call it made`, () => {
      const phase = phases[index]!;
      expect(refused(phase.synth(), phase.calls)).toEqual([]);
      // Switching a deployment to `mirror` only adds grants: what it did under `keep` stays allowed.
      if (phase.checkedAlsoBy) expect(refused(phase.checkedAlsoBy(), phase.calls)).toEqual([]);
    });
  }

  it('lets the Lambda service poll the work queue with the worker role (the SQS event source)', () => {
    // https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
    const queue = { kind: 'sqsQueue', queueUrl: queues.queueUrl } as const;
    for (const synth of [keep, mirror]) {
      const role = new RolePolicy(statements(synth, 'workers'), new TemplateResolver(local));
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'])
        expect(role.evaluate({ action, resource: queue })).toEqual({ allowed: true });
    }
  });

  it('names the call and the grant when a role lacks one (the count transaction without ConditionCheckItem)', () => {
    const withoutChecks = (s: unknown) =>
      JSON.stringify((s as { Action: unknown }).Action) === '"dynamodb:ConditionCheckItem"';
    const failures = refused(keep, phases[0]!.calls, withoutChecks);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(
      /^(workers|detector): DynamoDB\.TransactWriteItems -> no grant of dynamodb:ConditionCheckItem on .*table\/.* for dynamodb:LeadingKeys \[counted#/,
    );
  });
});
