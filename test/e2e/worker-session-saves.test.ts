/**
 * How often the download workers write the iCloud session to Secrets Manager, over the real
 * worker composition (download handler, iCloud adapters, `SecretsManagerSessionStore`), the
 * simulator and the local Secrets Manager, which enforces AWS's versions quota (at most 100
 * versions it cannot remove yet, i.e. created in the last 24 hours). Each invocation is a cold
 * worker given one photo enqueued 55 minutes ago: its URL is refreshed by records/lookup, a
 * CloudKit answer that rotates X-APPLE-WEBAUTH-TOKEN (docs/protocol/session.md#http-conventions).
 *
 * Rotation alone is written at most once per `ROTATED_SESSION_SAVE_INTERVAL_MS`; a refreshed
 * session (accountLogin after a 401) at once, and a refused write of it is logged while the next
 * invocation refreshes again from the previous session.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { parseSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { openIcloudAdapters, openIcloudDownloads } from '#compose/icloud-adapters.ts';
import type { Asset } from '#domain/model/asset.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { ROTATED_SESSION_SAVE_INTERVAL_MS } from '#domain/session-saves.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { localAwsClientConfig } from '#local/servers/client-config.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSecretsManagerServer } from '#local/servers/secrets-manager-server.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  lambdaContext,
  RecordingLogger,
  sqsEvent,
  sqsRecord,
  workBody,
} from '#test/handlers/handler-doubles.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let endpoint: IcloudEndpoint;
let signedInDocument: string;
let asset: Asset;
let secrets: LocalServer;
let client: SecretsManagerClient;
/** The clock of the workers and of the local Secrets Manager (ms). */
let clock = Date.now();
let secretNames = 0;
/** PutSecretValue calls sent, accepted or refused. */
const puts = { sent: 0, refused: 0 };

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 3, seed: 77 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-session-saves-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  endpoint = signedIn.endpoint;
  signedInDocument = (await signedIn.store.load())!.document;
  const library = await openIcloudAdapters({ ...signedIn, logger: createLogger({ level: 'SILENT' }) });
  const zones = await library.source.discoverZones();
  const page = await library.source.enumeratePage(zones.find((z) => z.zoneName === 'PrimarySync')!);
  asset = page.changes.flatMap((c) =>
    c.type === 'asset' && c.asset.versions.length > 0 ? [c.asset] : [],
  )[0]!;

  secrets = await startSecretsManagerServer({ now: () => clock });
  client = new SecretsManagerClient(
    localAwsClientConfig({ s3: '', dynamodb: '', sqs: '', secretsManager: secrets.endpoint }).secretsManager,
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutSecretValueCommand') return next(args);
      puts.sent += 1;
      try {
        return await next(args);
      } catch (error) {
        puts.refused += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'countPutSecretValue' },
  );
});

afterAll(async () => {
  client?.destroy();
  await secrets?.stop();
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A secret holding the signed-in session, as `login --aws` leaves it. */
async function sessionSecret(): Promise<string> {
  secretNames += 1;
  const name = `icloud-s3/session-${secretNames}`;
  await client.send(new CreateSecretCommand({ Name: name, SecretString: signedInDocument }));
  puts.sent = 0;
  puts.refused = 0;
  return name;
}

/** One cold worker invocation archiving the photo from a message enqueued 55 minutes ago. */
async function invokeWorker(secretId: string, logger = new RecordingLogger()) {
  const store = new SecretsManagerSessionStore({ client, secretId, now: () => clock });
  const handler = createDownloadHandler({
    decode: parseWorkMessage,
    archive: {
      state: new InMemorySyncStateStore({ now: () => clock }),
      objects: new InMemoryObjectStore({ now: () => clock, partSize: MIN_PART_SIZE }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => clock,
    },
    icloud: () => openIcloudDownloads({ endpoint, store, logger, now: () => clock }),
    logger,
    metrics: new CollectedMetrics(),
    reserveMs: 1_000,
  });
  const message = workBody([{ type: 'asset', asset }], clock - 55 * MINUTE);
  const response = await handler(
    sqsEvent([sqsRecord(message)]),
    lambdaContext(() => 60_000),
  );
  return { response, logger };
}

async function storedUpdatedAt(secretId: string): Promise<number> {
  const stored = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return parseSessionDocument(stored.SecretString!).updatedAt;
}

describe('the download workers and the stored session', () => {
  it('write a session whose only change is the rotated cookie at most once per interval: 120 invocations a minute apart', async () => {
    const secretId = await sessionSecret();
    const invocations = 120;
    const before = (await control.stats()).requests;
    for (let i = 0; i < invocations; i++) {
      const { response } = await invokeWorker(secretId);
      expect(response.batchItemFailures).toEqual([]);
      clock += MINUTE;
      await control.advanceClock({ advanceMs: MINUTE });
    }
    const after = (await control.stats()).requests;
    // Every invocation asked CloudKit (the cookie rotated each time), and none had to sign in
    // again: the stored cookie never fell out of the simulator's hour of grace...
    expect((after['records/lookup'] ?? 0) - (before['records/lookup'] ?? 0)).toBe(invocations);
    expect(after['accountLogin'] ?? 0).toBe(before['accountLogin'] ?? 0);
    // ...yet the secret was written once per interval, never refused by the versions quota.
    const interval = ROTATED_SESSION_SAVE_INTERVAL_MS / MINUTE;
    expect(puts.refused).toBe(0);
    expect(puts.sent).toBeLessThanOrEqual(Math.ceil(invocations / interval) + 1);
    expect(puts.sent).toBeGreaterThanOrEqual(Math.floor(invocations / interval) - 1);
    // The stored cookie is never older than the interval plus one invocation's spacing.
    expect(clock - (await storedUpdatedAt(secretId))).toBeLessThanOrEqual(
      ROTATED_SESSION_SAVE_INTERVAL_MS + MINUTE,
    );
  });

  it('write a refreshed session at once; when the versions quota refuses it, log it and refresh again next time', async () => {
    const secretId = await sessionSecret();
    // The signed-in cookie was rotated away (by the listing in beforeAll) more than the grace
    // (an hour) ago: CloudKit answers 401, the worker refreshes with accountLogin and stores the
    // refreshed session at once.
    await control.advanceClock({ advanceMs: 2 * HOUR });
    const first = await invokeWorker(secretId);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.logger.messages()).toContain('session refreshed');
    expect(puts).toEqual({ sent: 1, refused: 0 });

    // The retry after that refresh rotated the stored cookie away; two hours later it is past the
    // grace, while by the workers' clock the stored session is a minute old: refreshed again, and
    // stored at once, however young the stored session.
    await control.advanceClock({ advanceMs: 2 * HOUR });
    clock += MINUTE;
    puts.sent = 0;
    const refreshed = await invokeWorker(secretId);
    expect(refreshed.response.batchItemFailures).toEqual([]);
    expect(refreshed.logger.messages()).toContain('session refreshed');
    expect(puts).toEqual({ sent: 1, refused: 0 });
    expect(await storedUpdatedAt(secretId)).toBe(clock);

    // Fill the quota (100 versions created in the last 24 hours), then lose the web session again.
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    for (let i = 0; i < 100; i++) {
      await client
        .send(new PutSecretValueCommand({ SecretId: secretId, SecretString }))
        .catch(() => undefined);
    }
    await control.advanceClock({ advanceMs: 2 * HOUR });
    clock += MINUTE;
    puts.sent = 0;
    puts.refused = 0;
    const refused = await invokeWorker(secretId);
    expect(refused.response.batchItemFailures).toEqual([]);
    expect(puts.refused).toBeGreaterThanOrEqual(1);
    const warning = refused.logger.lines.find((l) => l['message'] === 'refreshed session not saved');
    expect(warning).toBeDefined();
    expect(JSON.stringify(warning)).toContain('LimitExceededException');

    // The next invocation still has the previous session and refreshes again.
    clock += MINUTE;
    const next = await invokeWorker(secretId);
    expect(next.response.batchItemFailures).toEqual([]);
    expect(next.logger.messages()).toContain('session refreshed');
  });
});
