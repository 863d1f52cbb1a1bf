/**
 * While the stored session is latched (a person must sign in), queued work waits instead of being
 * burnt through: the workers fail it without asking Apple, SQS parks it in the dead-letter queue
 * after its receives, and the detector leaves it there, its redrives unspent, until the login; the
 * first detector run after it sends the work back and the workers archive it. Played over three
 * days of 15-minute ticks with SQS's receive count, visibility timeout and dead-letter move.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
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
import { MAX_RECEIVES, MINUTE, START, sessionDocument, TICK, VISIBILITY } from './sqs-retention-world.ts';

describe('queued work while sign-in is latched', () => {
  it('waits in the dead-letter queue, is never given up, and is archived after the login', async () => {
    let now = START;
    const store = new InMemorySessionStore(await sessionDocument(true));
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

    const worker = createDownloadHandler({
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

    // SQS's side: receives counted per message, invisible for the visibility timeout after each,
    // moved to the dead-letter queue by the receive past the fifth (with its redrive history).
    type Queued = {
      body: string;
      receives: number;
      visibleAt: number;
      redrives: number;
      redrivenAt?: number;
    };
    const queue: Queued[] = [
      { body: workBody([{ type: 'asset', asset }], START), receives: 0, visibleAt: START, redrives: 0 },
    ];
    let deliveries = 0;
    let givenUp = 0;
    const tick = async () => {
      await detector(
        {},
        lambdaContext(() => 600_000, `tick-${now}`),
      );
      givenUp += metrics.values.get(METRICS.workGivenUp) ?? 0;
      metrics.values.delete(METRICS.workGivenUp);
      for (const back of dlq.workQueue.splice(0))
        queue.push({
          body: back.body,
          receives: 0,
          visibleAt: now,
          redrives: back.redrives,
          redrivenAt: back.redrivenAt,
        });
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

    // Three days latched, nobody signs in.
    for (; now < START + 3 * 24 * 60 * MINUTE; now += TICK) await tick();

    expect(givenUp).toBe(0);
    expect(queue).toEqual([]);
    expect([...dlq.letters.values()].map((l) => l.redrives)).toEqual([0]);
    expect(deliveries).toBe(MAX_RECEIVES);
    expect(cdn.opened).toEqual([]);
    expect(objects.keys()).toEqual([]);

    // The person signs in: the next detector run sends the work back, a worker archives it.
    await store.save(await sessionDocument(false));
    await tick();
    now += TICK;
    await tick();

    expect(givenUp).toBe(0);
    expect(dlq.letters.size).toBe(0);
    expect(queue).toEqual([]);
    expect(cdn.opened).toEqual(['https://cdn.test/waiting?fresh']);
    expect(objects.keys()).toHaveLength(1);
  });
});
