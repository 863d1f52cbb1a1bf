/**
 * One condition, one notification: while the iCloud sign-in is latched, the person hears of it
 * from `ReauthRequired` (ALARM once, OK after the login), and from no other alarm the latch
 * causes (`DeadLetters` as latched work reaches the dead-letter queue, `NoRecentSync` as no sync
 * completes, `QueueBacklog` as latched work ages), not even in the minutes between the login and
 * the first run's redrive. A real problem still notifies: dead letters or no sync while signed in,
 * and a condition that outlasts the login.
 *
 * How: the synthesized template's alarms run on a CloudWatch model (test/fakes/cloudwatch-alarms.ts)
 * every minute, fed what the deployed pipeline publishes: the detector's and the workers' handlers
 * (their real metrics, under each function's service dimension; the detector's Lambda `Errors`),
 * and SQS's own metrics of the modelled queues (receive count, visibility, dead-letter move, as in
 * test/handlers/latched-work-waits.test.ts). The notifications the alarm topic receives are counted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
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
import type { AssetSource } from '#ports/asset-source.ts';
import { METRICS, SERVICE_NAMES } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { CloudWatchAlarms, type Notification } from '#test/fakes/cloudwatch-alarms.ts';
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
} from '../handlers/handler-doubles.ts';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

const START = Date.UTC(2026, 11, 6, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TICK = 15 * MINUTE;
/** infra/work-queue.ts: 6 x the 15-minute worker timeout, and five receives before the DLQ. */
const VISIBILITY = 90 * MINUTE;
const MAX_RECEIVES = 5;

let synth: Synthesised;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
beforeAll(() => {
  // A 2-hour queue age alarm: latched work ages past it before its third receive (after which
  // SQS leaves it out of the oldest age) at 3 hours.
  synth = synthesise({ queueAgeAlarmHours: 2 });
  resources = synth.template.toJSON().Resources;
});

const idOf = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(synth.stack, construct);

/** What the person receives: `<alarm construct> <state>`, named by the construct on PipelineAlarms. */
function received(notifications: readonly Notification[]): string[] {
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(synth.stack.alarms))
    if (value !== null && typeof value === 'object' && 'node' in value)
      try {
        names.set(idOf(value as never), name);
      } catch {
        // not a resource (the topic's key, ...)
      }
  return notifications.map((n) => `${names.get(n.alarm) ?? n.alarm} ${n.state}`);
}

async function sessionDocument(latched: boolean, at: number): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: at });
  session.update({ dsid: '123', ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443' });
  if (latched) session.update({ signInNeeded: { since: at, reason: 'two-factor needed' } });
  return serializeSessionDocument(await session.toDocument(at));
}

/** A library where nothing changes: every signed-in run is an idle, successful sync. */
const quietSource: Partial<AssetSource> = {
  changedZones: async () => ({ zones: [], syncToken: 'db-token', moreComing: false }),
};

interface Options {
  /** Extra periods in the evaluation range beyond EvaluationPeriods (0: missing data counts at once). */
  readonly rangeExtra: number;
  /** How late SQS's datapoints describe the queues (CloudWatch receives them minutes after). */
  readonly sqsLagMinutes: number;
}

/**
 * The deployed pipeline over `days` of 15-minute ticks: signed in for a day, then Apple wants a
 * new sign-in (a detector run finds it and latches the session) with one download queued, latched
 * for `latchedDays`, then the person logs in (mid-period) and it runs signed in for another day.
 */
async function latchedPipeline(latchedDays: number, options: Options) {
  let now = START;
  const cloudwatch = new CloudWatchAlarms(resources, { rangeExtra: options.rangeExtra });
  const store = new InMemorySessionStore(await sessionDocument(false, START));
  const latched = async () => (await storedSignInLatch(store)) !== undefined;
  let appleWantsSignIn = false;
  const detectorMetrics = new CollectedMetrics();
  const workerMetrics = new CollectedMetrics();
  const logger = new RecordingLogger();
  const state = new InMemorySyncStateStore({ now: () => now });
  await state.saveZone(
    { zone: { database: 'private', zoneName: 'PrimarySync' }, syncToken: 'zone-token' },
    0,
  );
  const objects = new InMemoryObjectStore({ now: () => now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const asset = photoAsset('waiting', 64);
  const fresh = {
    ...asset,
    versions: asset.versions.map((v) => ({ ...v, downloadUrl: `${v.downloadUrl}?fresh` })),
  };
  const icloud = fakeIcloud(cdn, {
    ...quietSource,
    lookupAssets: async () => ({ assets: [fresh], missing: [], unavailable: [] }),
  });
  cdn.files.set('https://cdn.test/waiting?fresh', jpegBytes(64, 7));
  const dlq = new InMemoryDeadLetterQueue();
  const openIcloud = async () => {
    const latch = await storedSignInLatch(store);
    if (latch) throw new SignInLatchedError('sign-in needed', { since: latch.since });
    if (appleWantsSignIn) {
      // The run that finds it latches the stored session (open-session.ts), then reports it.
      await store.save(await sessionDocument(true, now));
      throw new SessionExpiredError('Apple wants a new sign-in', { action: 'icloud-s3 login' });
    }
    return icloud.adapters;
  };
  const worker = createDownloadHandler({
    decode: parseWorkMessage,
    archive: { state, objects, versionPolicy: DEFAULT_VERSION_POLICY, deletePolicy: 'keep', now: () => now },
    icloud: openIcloud,
    logger,
    metrics: workerMetrics,
    reserveMs: 1_000,
  });
  const detector = createDetectHandler(
    {
      state,
      queue: new InMemoryWorkQueue(),
      icloud: openIcloud,
      deletePolicy: DEFAULT_DELETE_POLICY,
      reserveMs: 20_000,
      logger,
      metrics: detectorMetrics,
    },
    {
      deadLetters: dlq,
      retries: state,
      decode: parseWorkMessage,
      logger,
      metrics: detectorMetrics,
      now: () => now,
      signInLatched: latched,
    },
  );

  const detectorFunction = `ref:${idOf(synth.stack.detector.fn.function)}`;
  const queueName = (queue: Parameters<typeof idOf>[0]) => `${idOf(queue)}.QueueName`;
  // A metric published under a name or dimensions no alarm reads would prove nothing.
  const service = { service: SERVICE_NAMES.detectChanges };
  for (const [namespace, name, dimensions] of [
    [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { QueueName: queueName(synth.stack.work.deadLetterQueue) },
    ],
    ['AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: queueName(synth.stack.work.queue) }],
    ['AWS/Lambda', 'Errors', { FunctionName: detectorFunction }],
    [METRICS.namespace, METRICS.syncSucceeded, service],
    [METRICS.namespace, METRICS.signInPending, service],
    [METRICS.namespace, METRICS.reauthRequired, service],
  ] as const)
    expect(cloudwatch.watches(namespace, name, dimensions), name).toBe(true);
  /** What an invocation's EMF publishes (Powertools: one datapoint per metric it added). */
  const publish = (metrics: CollectedMetrics, service: string) => {
    for (const [name, value] of metrics.values) {
      cloudwatch.put(METRICS.namespace, name, { service }, value, now);
    }
    metrics.values.clear();
  };

  type Queued = {
    body: string;
    sentAt: number;
    receives: number;
    visibleAt: number;
    redrives: number;
    redrivenAt?: number;
  };
  const queue: Queued[] = [];
  /** SQS's view of both queues at each minute, for its metrics. */
  const sqsHistory: { at: number; deadLetters: number; oldestAgeS: number }[] = [];
  const recordQueues = () => {
    // SQS leaves a message received three times or more out of the oldest age (a poison pill).
    const counted = queue.filter((m) => m.receives < 3);
    sqsHistory.push({
      at: now,
      deadLetters: dlq.letters.size,
      oldestAgeS:
        counted.length === 0 ? 0 : Math.floor((now - Math.min(...counted.map((m) => m.sentAt))) / 1000),
    });
  };
  const publishQueues = (at: number) => {
    const seen = [...sqsHistory].reverse().find((h) => h.at <= at - options.sqsLagMinutes * MINUTE);
    if (seen === undefined) return;
    cloudwatch.put(
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { QueueName: queueName(synth.stack.work.deadLetterQueue) },
      seen.deadLetters,
      at,
    );
    cloudwatch.put(
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      { QueueName: queueName(synth.stack.work.queue) },
      seen.oldestAgeS,
      at,
    );
  };

  const tick = async () => {
    let failed = 0;
    try {
      await detector(
        {},
        lambdaContext(() => 600_000, `tick-${now}`),
      );
    } catch {
      failed = 1;
    }
    publish(detectorMetrics, SERVICE_NAMES.detectChanges);
    cloudwatch.put('AWS/Lambda', 'Errors', { FunctionName: detectorFunction }, failed, now);
    for (const back of dlq.workQueue.splice(0))
      queue.push({
        body: back.body,
        sentAt: now,
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
      const response = await worker(
        sqsEvent([sqsRecord(message.body)]),
        lambdaContext(() => 600_000),
      );
      publish(workerMetrics, SERVICE_NAMES.downloadAssets);
      if (response.batchItemFailures.length > 0) queue.push({ ...message, visibleAt: now + VISIBILITY });
    }
  };

  /** Runs the schedule until `until`, CloudWatch evaluating every minute in between. */
  const runUntil = async (until: number) => {
    while (now < until) {
      if (now % TICK === 0) await tick();
      recordQueues();
      publishQueues(now);
      cloudwatch.evaluate(now);
      now += MINUTE;
    }
  };

  // Signed in for a day: every alarm settles (each sends its first OK), then counting starts.
  await runUntil(START + DAY);
  const settled = cloudwatch.notifications.length;
  // Apple wants a new sign-in; a download is queued just before.
  queue.push({
    body: workBody([{ type: 'asset', asset }], now),
    sentAt: now,
    receives: 0,
    visibleAt: now,
    redrives: 0,
  });
  appleWantsSignIn = true;
  const latchedAt = now;
  await runUntil(latchedAt + latchedDays * DAY);
  // The person signs in, between two ticks.
  appleWantsSignIn = false;
  now += 7 * MINUTE;
  await store.save(await sessionDocument(false, now));
  await runUntil(latchedAt + (latchedDays + 1) * DAY);
  return {
    all: received(cloudwatch.notifications.slice(settled)),
    archived: objects.keys().length,
    deadLetters: dlq.letters.size,
  };
}

describe('alarms while the sign-in is latched', () => {
  for (const options of [
    { rangeExtra: 2, sqsLagMinutes: 0 },
    // The adverse order: ReauthRequired turns OK at its first period without a latched run,
    // while SQS still shows the dead letters the first run after the login sent back.
    { rangeExtra: 0, sqsLagMinutes: 10 },
  ]) {
    it(`notify the person once, by ReauthRequired, over three days and the login (${JSON.stringify(options)})`, async () => {
      const run = await latchedPipeline(3, options);
      expect(run.all).toEqual(['reauthRequired ALARM', 'reauthRequired OK']);
      // The work waited and was archived after the login.
      expect(run.deadLetters).toBe(0);
      expect(run.archived).toBe(1);
    }, 120_000);
  }
});

/**
 * What the pipeline publishes, tick by tick, for conditions the handlers above do not play: each
 * scheduled detector run (its outcome's metrics and its Lambda `Errors`), and SQS's dead-letter
 * count every minute. Returns what the person receives after a signed-in, idle day, and when.
 */
function published(
  days: number,
  at: (t: number) => { run: 'synced' | 'failed' | 'latched'; deadLetters: number; trustDays?: number },
): { what: string; at: number }[] {
  const cloudwatch = new CloudWatchAlarms(resources);
  const detector = { service: SERVICE_NAMES.detectChanges };
  const detectorFunction = { FunctionName: `ref:${idOf(synth.stack.detector.fn.function)}` };
  const dlq = { QueueName: `${idOf(synth.stack.work.deadLetterQueue)}.QueueName` };
  let settled = 0;
  for (let t = START; t < START + (1 + days) * DAY; t += MINUTE) {
    if (t === START + DAY) settled = cloudwatch.notifications.length;
    const now = t < START + DAY ? { run: 'synced' as const, deadLetters: 0 } : at(t - START - DAY);
    const trustDays = now.trustDays ?? 40;
    if (t % TICK === 0) {
      // A run that opened the session reports its trust (detection-run.ts); a latched one does not.
      if (now.run !== 'latched')
        cloudwatch.put(METRICS.namespace, METRICS.trustExpiresInDays, detector, trustDays, t);
      if (now.run === 'synced') cloudwatch.put(METRICS.namespace, METRICS.syncSucceeded, detector, 1, t);
      if (now.run === 'latched') cloudwatch.put(METRICS.namespace, METRICS.signInPending, detector, 1, t);
      cloudwatch.put('AWS/Lambda', 'Errors', detectorFunction, now.run === 'failed' ? 1 : 0, t);
    }
    cloudwatch.put('AWS/SQS', 'ApproximateNumberOfMessagesVisible', dlq, now.deadLetters, t);
    cloudwatch.evaluate(t);
  }
  const after = cloudwatch.notifications.slice(settled);
  return received(after).map((what, i) => ({ what, at: after[i]!.at - START - DAY }));
}

describe('alarms a latch also trips still notify when signed in', () => {
  it('dead letters while signed in', () => {
    // Work that failed five times for its own reason, redriven 3 hours later.
    const got = published(1, (t) => ({
      run: 'synced',
      deadLetters: t >= 2 * HOUR && t < 5 * HOUR ? 1 : 0,
    }));
    expect(got.map((n) => n.what)).toEqual(['deadLettersNotice ALARM', 'deadLettersNotice OK']);
    // Told after the wait period for ReauthRequired (10 minutes), which never came.
    expect(got[0]!.at).toBe(2 * HOUR + 10 * MINUTE);
  });

  it('no sync for another cause than the sign-in', () => {
    // Every run fails for 14 hours (an outage, a bug), then syncs again.
    const got = published(1, (t) => ({
      run: t >= HOUR && t < 15 * HOUR ? 'failed' : 'synced',
      deadLetters: 0,
    }));
    expect(got.map((n) => n.what)).toEqual([
      'detectorErrors ALARM',
      'noRecentSyncNotice ALARM',
      'detectorErrors OK',
      'noRecentSyncNotice OK',
    ]);
  });

  it('no sync that outlasts the login: notified once the extension after ReauthRequired ends', () => {
    // Latched for a day; after the login every run fails for 6 hours, then syncs.
    const loginAt = DAY + 7 * MINUTE;
    const got = published(2, (t) => ({
      run: t < loginAt ? 'latched' : t < loginAt + 6 * HOUR ? 'failed' : 'synced',
      deadLetters: 0,
    }));
    const reauthOk = got.find((n) => n.what === 'reauthRequired OK')!.at;
    // When the extension (a 15-minute schedule and half an hour) after ReauthRequired's OK ends.
    expect(got.find((n) => n.what === 'noRecentSyncNotice ALARM')!.at).toBe(reauthOk + 45 * MINUTE);
    expect(got.map((n) => n.what)).toEqual([
      'reauthRequired ALARM',
      'detectorErrors ALARM',
      'reauthRequired OK',
      'noRecentSyncNotice ALARM',
      'detectorErrors OK',
      'noRecentSyncNotice OK',
    ]);
  });
});

describe('the trust running out into a latch', () => {
  it('tells TrustExpiring once, and its OK only when a login renewed the trust', () => {
    // Trust for 5 more days, unheeded; then Apple wants the sign-in (a day latched), then a login
    // with a fresh trust.
    const latchAt = 6 * HOUR;
    const loginAt = DAY + 7 * MINUTE;
    const got = published(2, (t) =>
      t < latchAt
        ? { run: 'synced', deadLetters: 0, trustDays: 5 }
        : t < loginAt
          ? { run: 'latched', deadLetters: 0 }
          : { run: 'synced', deadLetters: 0, trustDays: 60 },
    );
    // No OK while latched: the trust is no better for the latched runs not reporting it.
    expect(
      got.map((n) => `${n.what} ${n.at < latchAt ? 'before' : n.at < loginAt ? 'latched' : 'after'}`),
    ).toEqual([
      'trustExpiring ALARM before',
      'reauthRequired ALARM latched',
      'trustExpiring OK after',
      'reauthRequired OK after',
    ]);
  });
});
