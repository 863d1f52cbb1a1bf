/**
 * AUDIT16 (absence) scratch: not latched this time. The download workers fail every message for
 * 20 days (a worker that cannot run: the account's Lambda concurrency throttled, a bad deploy, a
 * timeout), while the detector runs and redrives. SQS's retention is modelled: 14 days in the
 * dead-letter queue from the message's last send (a redrive is a new SendMessage). Claim: the work
 * is redriven five times over about a day, given up, and deleted by SQS 14 days later; the
 * WorkGivenUp and DeadLetters alarms then fall back to OK (their recovery notification) and the
 * photo is never archived once the workers run again: nothing records it (no `failed` entry, no
 * retry item, the sync token past it) until a person runs `verify --repair`.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { storedSignInLatch } from '#adapters/icloud/session/stored-latch.ts';
import { SessionExpiredError, SignInLatchedError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { METRICS } from '#shared/env-names.ts';
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
} from './handler-doubles.ts';

const START = Date.UTC(2026, 11, 6, 12);
const MINUTE = 60_000;
const TICK = 15 * MINUTE;
/** infra/work-queue.ts: 6 x the 15-minute worker timeout, and five receives before the DLQ. */
const VISIBILITY = 90 * MINUTE;
const MAX_RECEIVES = 5;

async function sessionDocument(latched: boolean): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: START });
  session.update({ dsid: '123', ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443' });
  if (latched) session.update({ signInNeeded: { since: START, reason: 'two-factor needed' } });
  return serializeSessionDocument(await session.toDocument(START));
}

describe('audit16 absence: work failing for 20 days while nobody is there', () => {
  it('is archived once the workers run again', async () => {
    let now = START;
    const store = new InMemorySessionStore(await sessionDocument(false));
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
    const icloud = fakeIcloud(cdn, {
      lookupAssets: async () => ({ assets: [fresh], missing: [], unavailable: [] }),
    });
    cdn.files.set('https://cdn.test/waiting?fresh', jpegBytes(64, 7));
    const dlq = new InMemoryDeadLetterQueue();

    const FIXED = START + 20 * 24 * 60 * MINUTE;
    const realWorker = createDownloadHandler({
      decode: parseWorkMessage,
      archive: {
        state,
        objects,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => now,
      },
      icloud: async () => {
        const latch = await storedSignInLatch(store);
        if (latch) throw new SignInLatchedError('sign-in needed', { since: latch.since });
        return icloud.adapters;
      },
      logger,
      metrics,
      reserveMs: 1_000,
    });
    // Until FIXED the invocation fails as a throttled or crashing Lambda does: every record back.
    const worker: typeof realWorker = async (event, context) =>
      now < FIXED
        ? { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }
        : realWorker(event, context);
    const detector = createDetectHandler(
      {
        state,
        queue: new InMemoryWorkQueue(),
        icloud: async () => {
          const latch = await storedSignInLatch(store);
          if (latch) throw new SignInLatchedError('sign-in needed', { since: latch.since });
          throw new SessionExpiredError('not part of this test', { action: 'icloud-s3 login' });
        },
        deletePolicy: DEFAULT_DELETE_POLICY,
        reserveMs: 20_000,
        logger,
        metrics,
      },
      { deadLetters: dlq, logger, metrics, now: () => now, signInLatched: latched },
    );

    // SQS's side: receives counted per message, invisible for the visibility timeout after each,
    // moved to the dead-letter queue by the receive past the fifth (with its redrive history).
    type Queued = {
      body: string;
      receives: number;
      visibleAt: number;
      redrives: number;
      redrivenAt?: number;
    };
    const RETENTION = 14 * 24 * 60 * MINUTE;
    const firstEnqueuedAt = new Map<string, number>();
    let droppedBySqs = 0;
    const queue: Queued[] = [
      { body: workBody([{ type: 'asset', asset }], START), receives: 0, visibleAt: START, redrives: 0 },
    ];
    let deliveries = 0;
    let givenUp = 0;
    const tick = async () => {
      // SQS deletes a message RETENTION after its first enqueue, wherever it is (standard queues).
      for (const [handle, letter] of dlq.letters)
        if (now - (firstEnqueuedAt.get(letter.body) ?? START) >= RETENTION) {
          dlq.letters.delete(handle);
          droppedBySqs += 1;
        }
      await detector(
        {},
        lambdaContext(() => 600_000, `tick-${now}`),
      );
      givenUp += metrics.values.get(METRICS.workGivenUp) ?? 0;
      metrics.values.delete(METRICS.workGivenUp);
      for (const back of dlq.workQueue.splice(0)) {
        firstEnqueuedAt.set(back.body, now);
        queue.push({
          body: back.body,
          receives: 0,
          visibleAt: now,
          redrives: back.redrives,
          redrivenAt: back.redrivenAt,
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
    };

    // Twenty days of failing workers, nobody there.
    for (; now < FIXED; now += TICK) await tick();
    console.log(
      `audit16-absence: deliveries ${deliveries}, given-up counts ${givenUp}, deleted by SQS ${droppedBySqs}, dead letters left ${dlq.letters.size}`,
    );
    expect(objects.keys()).toEqual([]);

    // The workers run again.
    for (let i = 0; i < 8; i += 1) {
      await tick();
      now += TICK;
    }

    expect(cdn.opened).toEqual(['https://cdn.test/waiting?fresh']);
    expect(objects.keys()).toHaveLength(1);
  });
});
