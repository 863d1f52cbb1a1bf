/**
 * The world of the give-up and retention tests: one photo's work queued at START, a quiet library
 * (nothing changes in iCloud; what detection finds is the retry list), the real detector and
 * download handlers over the in-memory fakes, and SQS's side modelled: receives counted per
 * message, invisible for the visibility timeout after each, moved to the dead-letter queue by the
 * receive past the fifth (with its redrive history and its send time), and deleted
 * WORK_RETENTION_MS after its last send, wherever it is (a redrive is a new send, the move to the
 * dead-letter queue is not). The clock is the world's: a test moves `world.now` between ticks.
 */
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { storedSignInLatch } from '#adapters/icloud/session/stored-latch.ts';
import { SignInLatchedError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import { METRICS, WORK_RETENTION_MS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryDeadLetterQueue } from '#test/fakes/in-memory-dead-letter-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import {
  fakeIcloud,
  jpegBytes,
  lambdaContext,
  photoAsset,
  RecordingLogger,
  ScriptedCdn,
  sqsEvent,
  sqsRecord,
  workBody,
  ZONE,
} from './handler-doubles.ts';

export const START = Date.UTC(2026, 11, 6, 12);
export const MINUTE = 60_000;
export const TICK = 15 * MINUTE;
/** infra/work-queue.ts: 6 x the 15-minute worker timeout, and five receives before the DLQ. */
export const VISIBILITY = 90 * MINUTE;
export const MAX_RECEIVES = 5;

export async function sessionDocument(latched: boolean): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: START });
  session.update({ dsid: '123', ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443' });
  if (latched) session.update({ signInNeeded: { since: START, reason: 'two-factor needed' } });
  return serializeSessionDocument(await session.toDocument(START));
}

export interface SqsRetentionWorldOptions {
  /** The stored session starts latched (a person must sign in). */
  readonly latched: boolean;
  /**
   * Until this time every worker invocation fails as a throttled or crashing Lambda does: every
   * record back, without running the handler.
   */
  readonly workersFailUntil?: number;
}

/** A message on the work queue as SQS sees it. */
export type Queued = {
  body: string;
  receives: number;
  visibleAt: number;
  redrives: number;
  redrivenAt?: number;
  sentAt: number;
};

export async function sqsRetentionWorld(options: SqsRetentionWorldOptions) {
  let now = START;
  const store = new InMemorySessionStore(await sessionDocument(options.latched));
  const latched = async () => (await storedSignInLatch(store)) !== undefined;
  const metrics = new CollectedMetrics();
  const logger = new RecordingLogger();
  const state = new InMemorySyncStateStore({ now: () => now });
  const objects = new InMemoryObjectStore({ now: () => now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const asset = photoAsset('waiting', 64);
  // Three days on, the message's download URL has expired: the worker looks the asset up again.
  const fresh = {
    ...asset,
    versions: asset.versions.map((v) => ({ ...v, downloadUrl: `${v.downloadUrl}?fresh` })),
  };
  // A quiet library (nothing changes in iCloud meanwhile): what detection finds is the retry list.
  const library: Partial<AssetSource> = {
    changedZones: async () => ({ zones: [], syncToken: 'db-1', moreComing: false }),
    zoneChangesPage: async () => ({
      changes: [],
      cursor: { syncToken: 'z-1' },
      syncToken: 'z-1',
      moreComing: false,
      unpairedMasters: [],
      problems: [],
    }),
    lookupAssets: async () => ({ assets: [fresh], missing: [], unavailable: [] }),
  };
  const icloud = fakeIcloud(cdn, library);
  await state.saveDatabaseToken('private', 'db-1', 0);
  await state.saveZone({ zone: ZONE, syncToken: 'z-1', lastFullScanAt: START, albumsWalkedAt: START }, 0);
  cdn.files.set('https://cdn.test/waiting?fresh', jpegBytes(64, 7));
  const dlq = new InMemoryDeadLetterQueue();
  const adapters = async () => {
    const latch = await storedSignInLatch(store);
    if (latch) throw new SignInLatchedError('sign-in needed', { since: latch.since });
    return icloud.adapters;
  };

  const realWorker = createDownloadHandler({
    decode: parseWorkMessage,
    archive: {
      state,
      objects,
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => now,
    },
    icloud: adapters,
    logger,
    metrics,
    reserveMs: 1_000,
  });
  const failUntil = options.workersFailUntil;
  const worker: typeof realWorker =
    failUntil === undefined
      ? realWorker
      : async (event, context) =>
          now < failUntil
            ? { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }
            : realWorker(event, context);
  const sent = new InMemoryWorkQueue();
  const detector = createDetectHandler(
    {
      state,
      queue: sent,
      icloud: adapters,
      deletePolicy: DEFAULT_DELETE_POLICY,
      reserveMs: 20_000,
      logger,
      metrics,
      now: () => now,
    },
    {
      deadLetters: dlq,
      retries: state,
      decode: parseWorkMessage,
      logger,
      metrics,
      now: () => now,
      signInLatched: latched,
    },
  );

  const queue: Queued[] = [
    {
      body: workBody([{ type: 'asset', asset }], START),
      receives: 0,
      visibleAt: START,
      redrives: 0,
      sentAt: START,
    },
  ];
  let droppedBySqs = 0;
  let deliveries = 0;
  let givenUp = 0;
  /** One schedule period: SQS's deletions, a detector run, then the workers. Returns the period's workGivenUp. */
  const tick = async (): Promise<number> => {
    for (const [handle, letter] of dlq.letters)
      if (now >= (letter.sentAt ?? START) + WORK_RETENTION_MS) {
        dlq.letters.delete(handle);
        droppedBySqs += 1;
      }
    for (const message of queue.splice(0))
      if (now >= message.sentAt + WORK_RETENTION_MS) droppedBySqs += 1;
      else queue.push(message);
    await detector(
      {},
      lambdaContext(() => 600_000, `tick-${now}`),
    );
    const counted = metrics.values.get(METRICS.workGivenUp) ?? 0;
    givenUp += counted;
    metrics.values.delete(METRICS.workGivenUp);
    for (const work of sent.receive(1_000))
      queue.push({ body: work.body, receives: 0, visibleAt: now, redrives: 0, sentAt: now });
    for (const back of dlq.workQueue.splice(0)) {
      queue.push({
        body: back.body,
        receives: 0,
        visibleAt: now,
        redrives: back.redrives,
        redrivenAt: back.redrivenAt,
        sentAt: now,
      });
    }
    for (const message of queue.splice(0)) {
      if (message.visibleAt > now) {
        queue.push(message);
        continue;
      }
      message.receives += 1;
      if (message.receives > MAX_RECEIVES) {
        dlq.add(message.body, {
          redrives: message.redrives,
          ...(message.redrivenAt === undefined ? {} : { lastRedrivenAt: message.redrivenAt }),
          sentAt: message.sentAt,
        });
        continue;
      }
      deliveries += 1;
      const record = sqsRecord(message.body);
      const response = await worker(
        sqsEvent([record]),
        lambdaContext(() => 600_000),
      );
      if (response.batchItemFailures.length > 0) queue.push({ ...message, visibleAt: now + VISIBILITY });
    }
    return counted;
  };

  return {
    get now() {
      return now;
    },
    set now(time: number) {
      now = time;
    },
    store,
    state,
    objects,
    cdn,
    asset,
    dlq,
    queue,
    tick,
    /** Worker invocations, one record each. */
    get deliveries() {
      return deliveries;
    },
    /** The sum of workGivenUp over every tick. */
    get givenUp() {
      return givenUp;
    },
    /** Messages SQS deleted at the end of their retention, from either queue. */
    get droppedBySqs() {
      return droppedBySqs;
    },
  };
}
