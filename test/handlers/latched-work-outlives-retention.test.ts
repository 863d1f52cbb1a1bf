/**
 * The world of latched-work-waits.test.ts (the workers fail queued work without asking Apple
 * while sign-in is latched, SQS parks it in the dead-letter queue, the detector leaves it there
 * unspent), with SQS's retention modelled (a message is deleted 14 days after its last send, in
 * either queue: infra/work-queue.ts) and a latch of 20 days instead of 3. The letter about to be
 * deleted leaves the dead-letter queue for the failed photos' retry list (no request to Apple) and
 * the first detection after the login queues the photo again (docs/reliability.md, finding 117).
 * Before the fix SQS deleted it on day 14 and nothing recorded the photo.
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

describe('queued work while sign-in is latched for 20 days', () => {
  it('goes to the retry list before SQS deletes it, and is archived after the login', async () => {
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
      givenUp += metrics.values.get(METRICS.workGivenUp) ?? 0;
      metrics.values.delete(METRICS.workGivenUp);
      for (const work of sent.receive(1_000))
        queue.push({ body: work.body, receives: 0, visibleAt: now, redrives: 0, sentAt: now });
      for (const back of dlq.workQueue.splice(0))
        queue.push({
          body: back.body,
          receives: 0,
          visibleAt: now,
          redrives: back.redrives,
          redrivenAt: back.redrivenAt,
          sentAt: now,
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

    // Twenty days latched (a holiday, nobody answered the alarm), nobody signs in.
    for (; now < START + 20 * 24 * 60 * MINUTE; now += TICK) await tick();

    expect(givenUp).toBe(0);
    expect(queue).toEqual([]);
    expect(deliveries).toBe(MAX_RECEIVES);
    expect(cdn.opened).toEqual([]);
    expect(objects.keys()).toEqual([]);
    // A day before SQS would delete it, the letter left for the retry list, without asking Apple.
    expect(droppedBySqs).toBe(0);
    expect(dlq.letters.size).toBe(0);
    expect(dlq.removed).toHaveLength(1);
    expect((await state.loadZonesAndRetries()).retries.map((r) => [r.assetRecordName, r.tries])).toEqual([
      [asset.assetRecordName, 0],
    ]);

    // The person signs in: the next detector run sends the work back, a worker archives it.
    await store.save(await sessionDocument(false));
    for (let i = 0; i < 8; i += 1) {
      await tick();
      now += TICK;
    }

    expect(givenUp).toBe(0);
    expect(dlq.letters.size).toBe(0);
    expect(queue).toEqual([]);
    expect(cdn.opened).toEqual(['https://cdn.test/waiting?fresh']);
    expect(objects.keys()).toHaveLength(1);
  });
});
