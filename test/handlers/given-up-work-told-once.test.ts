/**
 * One photo whose work the download workers fail for 20 days (a throttled account, a bad deploy),
 * SQS modelled as in given-up-work-retried.test.ts. Its work is redriven five times over about a
 * day and given up to the failed photos' retry list (finding 116), which queues a copy of it daily
 * for ever; each copy the workers fail is given up again. The `WorkGivenUp` alarm (Maximum over one
 * schedule period, ALARM and OK actions) is told once for the photo, not once a day: a give-up
 * counts only for a photo newly listed, and it enters the list as tried for a day (daily tries,
 * never reported again by the list). Before (docs/reliability.md): 24 counts, 22 alarm episodes
 * (44 emails) and 729 worker deliveries in the 20 days. Once the workers run, the photo is archived.
 */
import { describe, expect, it } from 'vitest';
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

describe('one photo whose work keeps failing, 20 days', () => {
  it('notifies WorkGivenUp once, not once per daily copy the retry list queues', async () => {
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
    const sent = new InMemoryWorkQueue();
    const detector = createDetectHandler(
      {
        state,
        queue: sent,
        icloud: async () => {
          const latch = await storedSignInLatch(store);
          if (latch) throw new SignInLatchedError('sign-in needed', { since: latch.since });
          return icloud.adapters;
        },
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

    // SQS's side: receives counted per message, invisible for the visibility timeout after each,
    // moved to the dead-letter queue by the receive past the fifth (with its redrive history and
    // its send time), and deleted WORK_RETENTION_MS after its last send, wherever it is.
    type Queued = {
      body: string;
      receives: number;
      visibleAt: number;
      redrives: number;
      redrivenAt?: number;
      sentAt: number;
    };
    let droppedBySqs = 0;
    const queue: Queued[] = [
      {
        body: workBody([{ type: 'asset', asset }], START),
        receives: 0,
        visibleAt: START,
        redrives: 0,
        sentAt: START,
      },
    ];
    let deliveries = 0;
    let givenUp = 0;
    // The alarm: Maximum of workGivenUp over one schedule period, 1 evaluation period, missing data
    // not breaching (infra/pipeline-alarms.ts): each period with a count after one without is a
    // new OK -> ALARM transition, i.e. a new email.
    let notifications = 0;
    let inAlarm = false;
    const tick = async () => {
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
      if (counted > 0 && !inAlarm) notifications += 1;
      inAlarm = counted > 0;
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
    };

    // Twenty days of failing workers, nobody there.
    for (; now < FIXED; now += TICK) await tick();
    expect(droppedBySqs).toBe(0);
    // Told once: the first give-up. (Before finding 116: counted on every run for 14 days, then
    // the letter lost after 30 deliveries.)
    expect({ givenUp, notifications }).toEqual({ givenUp: 1, notifications: 1 });
    // The copies: the first message's 30 deliveries (5 receives x 6 sends), then one copy a day
    // from the list, each at most as many: bounded, about 30 a day while the workers fail.
    expect(deliveries).toBeLessThanOrEqual(30 * 20);
    expect((await state.loadZonesAndRetries()).retries.map((r) => r.assetRecordName)).toEqual([
      asset.assetRecordName,
    ]);

    // The workers run again: within a day (and the visibility timeout) the photo is archived.
    for (const end = now + 25 * 60 * MINUTE; now < end; now += TICK) await tick();
    expect(objects.keys()).toHaveLength(1);
    expect((await state.getEntry(asset))?.status).toBe('archived');
    expect(givenUp).toBe(1);
  });
});
