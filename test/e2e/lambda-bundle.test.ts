import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { type LocalAwsStack, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { CATALOG_JOURNAL_PREFIX } from '#domain/catalog/catalog-journal.ts';
import { CATALOG_SHARD_PREFIX } from '#domain/catalog/catalog-shard.ts';
import { isDerivedKey } from '#domain/catalog/derived-keys.ts';
import { ensureSecret } from '#local/servers/provision.ts';
import { ENV, HANDLER_ENTRIES } from '#shared/env-names.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, type TruthAsset } from '#test/helpers/local-archive.ts';
import { NODE22_PLATFORM, NODE22_VERSION, node22Absence, node22Binary } from '#test/helpers/node22.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { bundleLambda } from '../../infra/lambda-bundle.ts';

/**
 * The deployable artifact itself: each handler bundled by infra/lambda-bundle.ts, exactly as the
 * stack bundles it (ESM, node22, minified, SDK included, the same module substitutions and
 * plugin, the createRequire banner), loaded in a fresh Node process configured only by environment
 * variables, as Lambda would, and invoked against the simulator and the local AWS servers.
 *
 * On two Nodes: the one running the tests (20 on CI) and the Node 22 Lambda runs them on
 * (nodejs22.x; test/helpers/node22.ts, installed by `npm ci`), each against its own simulator and
 * servers. Where npm has no Node 22 for the platform (not linux-x64) its case says so as a skip;
 * on linux-x64 a missing one fails.
 */
const repositoryRoot = join(import.meta.dirname, '..', '..');
const SECRET_ID = 'icloud-s3/session';
type Simulator = Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
const bundles: Record<'detect' | 'download', string> = { detect: '', download: '' };

async function bundle(entry: string, outDir: string): Promise<string> {
  return bundleLambda(repositoryRoot, join(repositoryRoot, entry), outDir);
}

/** What Lambda gives the function: environment variables only (endpoints point at loopback). */
function lambdaEnv(sim: Simulator, stack: LocalAwsStack): Record<string, string> {
  return {
    [ENV.archiveBucket]: stack.bucket,
    [ENV.stateTable]: stack.table,
    [ENV.workQueueUrl]: stack.queues.queueUrl,
    [ENV.sessionSecretId]: SECRET_ID,
    [ENV.icloudEndpoint]: sim.controlUrl,
    [ENV.logLevel]: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    // s3rver knows one key pair; the other local servers accept any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.endpoints.secretsManager,
    // The local S3 server stores aws-chunked framing as data; real S3 does not need this.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

/**
 * Loads `bundlePath` in a new process of the Node at `execPath` and calls its
 * `handler(event, context)`; returns the result and the version of the Node that ran it.
 */
function invoke(
  execPath: string,
  env: Record<string, string>,
  bundlePath: string,
  event: unknown,
): Promise<{ result: unknown; version: string }> {
  const script = `
    const { handler } = await import(${JSON.stringify(bundlePath)});
    const deadline = Date.now() + 120000;
    const context = { awsRequestId: 'req-' + Date.now(), functionName: 'fn', getRemainingTimeInMillis: () => deadline - Date.now() };
    const result = await handler(JSON.parse(process.env.EVENT), context);
    process.stdout.write('RESULT ' + JSON.stringify({ result, version: process.version }) + '\\n');`;
  return new Promise((resolve, reject) => {
    const child = spawn(execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'] ?? '', ...env, EVENT: JSON.stringify(event) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined)
        reject(new Error(`handler process exited ${code}: ${stderr.slice(-2000)}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bundle-'));
  [bundles.detect, bundles.download] = await Promise.all([
    bundle(HANDLER_ENTRIES.detectChanges, join(dir, 'detect')),
    bundle(HANDLER_ENTRIES.downloadAssets, join(dir, 'download')),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A simulator and local AWS servers of its own, the session signed in and stored in the secret. */
async function openWorld(name: string): Promise<{ sim: Simulator; stack: LocalAwsStack }> {
  const sim = await startTestSimulator({ assets: 20, seed: 5 });
  const stack = await openLocalAwsStack({ dataDir: join(dir, name, 'aws') });
  // `icloud-s3 login --aws`: the signed-in session goes into the stack's secret.
  // The password remembered: a refresh past the web session's life signs in by SRP (srp-sign-in.mjs).
  const signedIn = await signInToSimulator(sim, join(dir, name, 'session.json'), { rememberPassword: true });
  const secrets = new SecretsManagerClient(stack.clientConfig.secretsManager);
  await ensureSecret(secrets, SECRET_ID);
  const stored = await signedIn.store.load();
  if (stored === undefined) throw new Error('sign-in stored no session');
  await new SecretsManagerSessionStore({ client: secrets, secretId: SECRET_ID }).save(stored.document);
  secrets.destroy();
  return { sim, stack };
}

const node22 = node22Binary();
const RUNTIMES = [
  {
    label: `the Node running the tests (${process.version})`,
    execPath: process.execPath,
    version: process.version,
  },
  {
    label: `Node 22, as Lambda runs them (${NODE22_VERSION})`,
    execPath: node22,
    version: `v${NODE22_VERSION}`,
  },
] as const;

for (const runtime of RUNTIMES) {
  describe(`the Lambda bundles on ${runtime.label}`, () => {
    const { execPath } = runtime;
    if (execPath === undefined) {
      it('has a Node 22 to run them on', (context) => {
        if (NODE22_PLATFORM) throw new Error(node22Absence());
        // A skip's note is easy to miss in a summary: said on stderr too.
        console.warn(`lambda-bundle: not run on Node 22 here: ${node22Absence()}`);
        context.skip(node22Absence());
      });
      return;
    }
    let sim: Simulator;
    let stack: LocalAwsStack;
    const run = async (bundlePath: string, event: unknown) => {
      const { result, version } = await invoke(execPath, lambdaEnv(sim, stack), bundlePath, event);
      expect(version).toBe(runtime.version);
      return result;
    };

    beforeAll(async () => {
      ({ sim, stack } = await openWorld(runtime.version));
    });

    afterAll(async () => {
      await stack?.stop();
      await sim?.stop();
    });

    it('detect-changes runs from its environment alone and fans the library out to the queue', async () => {
      const result = (await run(bundles.detect, {})) as { outcome: string; itemsEnqueued: number };
      expect(result.outcome).toBe('caughtUp');
      expect(result.itemsEnqueued).toBeGreaterThan(0);
    });

    it('download-assets archives what the queue holds, byte for byte', async () => {
      for (;;) {
        const received = await stack.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queues.queueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 300,
            WaitTimeSeconds: 0,
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) break;
        const event = {
          Records: messages.map((m) => ({
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle,
            body: m.Body,
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: '0',
              SenderId: 'x',
              ApproximateFirstReceiveTimestamp: '0',
            },
            messageAttributes: {},
            md5OfBody: m.MD5OfBody,
            eventSource: 'aws:sqs',
            eventSourceARN: stack.queues.queueArn,
            awsRegion: 'us-east-1',
          })),
        };
        const response = (await run(bundles.download, event)) as { batchItemFailures: unknown[] };
        expect(response.batchItemFailures).toEqual([]);
      }
      const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
      const objects = await readLocalArchiveFromStack(stack);
      // The simulator's account has Shared Albums (on by default): the bundles archive them too,
      // under their own prefix, as Apple's labelled reduced copies.
      const shared = objects.filter(
        (o) => o.key.startsWith('shared-albums/') && !o.key.endsWith('/album.json'),
      );
      expect(shared.length).toBeGreaterThan(0);
      expect(shared.every((o) => o.metadata['icloud-rendition'] === 'shared-album-copy')).toBe(true);
      const library = objects.filter((o) => !o.key.startsWith('shared-albums/'));
      expect(new Set(library.map((o) => o.metadata['icloud-sha256']))).toEqual(expectedDigests(truth));
    });

    it("detect-changes folds the workers' finished work into the catalog from its lazy bundle (catalog-fold.mjs)", async () => {
      const before: string[] = [];
      for await (const o of stack.objects.list(CATALOG_SHARD_PREFIX)) before.push(o.key);
      // Nothing changed at Apple: the run folds the journal the first run left (its work was
      // still waiting then), and the fold is the bundle beside index.mjs.
      await run(bundles.detect, {});
      const shards: string[] = [];
      for await (const o of stack.objects.list(CATALOG_SHARD_PREFIX)) shards.push(o.key);
      expect(before).toEqual([]);
      expect(shards.length).toBeGreaterThan(0);
      const journal: string[] = [];
      for await (const o of stack.objects.list(CATALOG_JOURNAL_PREFIX)) journal.push(o.key);
      expect(journal).toEqual([]);
    });

    it('detect-changes signs in again by SRP from its lazy bundle (srp-sign-in.mjs) once the web session expired', async () => {
      const control = controlClient(sim);
      await control.advanceClock({ advanceDays: 31 });
      await control.resetStats();
      const result = (await run(bundles.detect, {})) as { outcome: string };
      expect(result.outcome).not.toBe('reauthRequired');
      expect((await control.stats()).requests['signin/init']).toBe(1);
    });
  });
}

/** The photos as the running stack serves them (the servers stay up for the other test); album views left out. */
async function readLocalArchiveFromStack(stack: LocalAwsStack) {
  const objects: { key: string; metadata: Readonly<Record<string, string>> }[] = [];
  for await (const listed of stack.objects.list('')) {
    // The archived files; the catalog the detector keeps is derived from them.
    if (isDerivedKey(listed.key)) continue;
    const head = await stack.objects.head(listed.key);
    if (head !== undefined) objects.push({ key: listed.key, metadata: head.metadata });
  }
  return objects;
}
