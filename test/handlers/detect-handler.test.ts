/**
 * The scheduled detector against the iCloud simulator (real CloudKit adapter, signed in as
 * `icloud-s3 login` would) over in-memory state and queue: what an invocation writes, records
 * and emits, and how it shares a long first sync across invocations.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedIcloudSession } from '#adapters/icloud/session/open-session.ts';
import type { DetectionRunResult } from '#app/detection-run.ts';
import { type IcloudAdapters, openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { SessionExpiredError } from '#domain/errors.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { ZoneSyncStateInput } from '#domain/model/sync-state.ts';
import type { DatabaseScope } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { lambdaContext, RecordingLogger } from './handler-doubles.ts';

/** The in-memory store, noting every write (a spy with the store's real semantics underneath). */
class WriteRecordingStore extends InMemorySyncStateStore {
  readonly writes: string[] = [];
  override async saveZone(state: ZoneSyncStateInput, expectedRevision: number) {
    this.writes.push('saveZone');
    return super.saveZone(state, expectedRevision);
  }
  override async saveDatabaseToken(database: DatabaseScope, syncToken: string, expectedRevision: number) {
    this.writes.push('saveDatabaseToken');
    return super.saveDatabaseToken(database, syncToken, expectedRevision);
  }
  override async acquireLock(name: string, owner: string, leaseMs: number) {
    this.writes.push('acquireLock');
    return super.acquireLock(name, owner, leaseMs);
  }
  override async putEntry(entry: ManifestEntryInput, expectedRevision: number) {
    this.writes.push('putEntry');
    return super.putEntry(entry, expectedRevision);
  }
  override async startRun(...args: Parameters<InMemorySyncStateStore['startRun']>) {
    this.writes.push('startRun');
    return super.startRun(...args);
  }
  override async recordCheck(at: number) {
    this.writes.push('recordCheck');
    return super.recordCheck(at);
  }
  override async adjustCounters(...args: Parameters<InMemorySyncStateStore['adjustCounters']>) {
    this.writes.push('adjustCounters');
    return super.adjustCounters(...args);
  }
}

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;
const state = new WriteRecordingStore();
const queue = new InMemoryWorkQueue();

function setUp(icloud?: () => Promise<IcloudAdapters>) {
  const metrics = new CollectedMetrics();
  const logger = new RecordingLogger();
  let saves = 0;
  const handler = createDetectHandler({
    state,
    queue,
    icloud:
      icloud ??
      (async () => {
        const adapters = await openIcloudAdapters({ ...signedIn, logger });
        const opened = adapters.session;
        // The real session, with its saves counted.
        const session: OpenedIcloudSession = {
          http: opened.http,
          ckdatabasewsUrl: () => opened.ckdatabasewsUrl(),
          dsid: opened.dsid,
          clientId: opened.clientId,
          storedAt: opened.storedAt,
          ...(opened.trustExpiresAt === undefined ? {} : { trustExpiresAt: opened.trustExpiresAt }),
          save: async () => {
            saves += 1;
            await opened.save();
          },
        };
        return { ...adapters, session };
      }),
    deletePolicy: DEFAULT_DELETE_POLICY,
    reserveMs: 20_000,
    logger,
    metrics,
  });
  return { handler, metrics, logger, saves: () => saves };
}

/** A context that loses 5 s at every look: a few pages fit before the 20 s reserve is reached. */
function shortContext(requestId: string) {
  let remaining = 65_000;
  return lambdaContext(() => {
    remaining -= 5_000;
    return remaining;
  }, requestId);
}

const queuedAssets = () =>
  new Set(
    queue
      .peek()
      .flatMap((w) => w.message.items.flatMap((i) => (i.type === 'asset' ? [i.asset.assetRecordName] : []))),
  );

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2_000, seed: 3 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-detect-handler-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the detect handler', () => {
  it('stops cleanly with its checkpoint saved when the deadline nears, and the next invocations finish a 2,000-photo first sync', async () => {
    const { handler } = setUp();
    const outcomes: DetectionRunResult['outcome'][] = [];
    for (let i = 0; i < 30; i++) {
      const result = await handler({}, shortContext(`first-sync-${i}`));
      outcomes.push(result.outcome);
      if (result.outcome !== 'continued') break;
      const zones = await state.loadZones();
      expect(zones.some((z) => z.checkpoint !== undefined || z.syncToken !== undefined)).toBe(true);
    }

    expect(outcomes.length).toBeGreaterThan(2);
    expect(outcomes.at(-1)).toBe('caughtUp');
    const library = (await control.library<{ assets: { assetRecordName: string; isDeleted: boolean }[] }>())
      .assets;
    const live = library.filter((a) => !a.isDeleted).map((a) => a.assetRecordName);
    const queued = queuedAssets();
    expect(live.filter((name) => !queued.has(name))).toEqual([]);
    const runs = await state.listRuns(50);
    expect(runs.map((r) => r.outcome).sort()).toEqual(
      [...outcomes.slice(0, -1).map(() => 'partial'), 'succeeded'].sort(),
    );
    // The run after a first sync that spanned invocations reads the database from the token read
    // when it began: nothing changed meanwhile, so it is idle (one request).
    const after = await handler(
      {},
      lambdaContext(() => 600_000, 'after-first-sync'),
    );
    expect(after.outcome).toBe('idle');
  });

  it('writes only the time of the check when nothing changed: no run record, no session', async () => {
    const { handler, saves } = setUp();
    state.writes.length = 0;
    const runsBefore = await state.listRuns(100);
    const before = Date.now();

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'idle'),
    );

    expect(result.outcome).toBe('idle');
    expect(state.writes).toEqual(['recordCheck']);
    expect(await state.lastCheckedAt()).toBeGreaterThanOrEqual(before);
    expect(await state.listRuns(100)).toEqual(runsBefore);
    expect(saves()).toBe(0);
  });

  it('records a run with what it enqueued when the library changed', async () => {
    const { handler, metrics } = setUp();
    await control.mutate({ op: 'add', kind: 'photo', count: 2 });

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'with-changes'),
    );

    expect(result.outcome).toBe('caughtUp');
    const [latest] = await state.listRuns(1);
    expect(latest).toMatchObject({
      runId: 'with-changes',
      kind: 'detect',
      outcome: 'succeeded',
      counts: { itemsEnqueued: 2 },
    });
    expect(metrics.values.get(METRICS.syncSucceeded)).toBe(1);
  });

  it('answers reauthRequired with its metric, without throwing, when there is no usable session', async () => {
    const { handler, metrics, logger } = setUp(async () => {
      throw new SessionExpiredError('the session expired', { action: 'icloud-s3 login' });
    });

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'no-session'),
    );

    expect(result).toMatchObject({ outcome: 'reauthRequired', action: 'icloud-s3 login' });
    expect(metrics.values.get(METRICS.reauthRequired)).toBe(1);
    expect(logger.messages()).toContain('iCloud needs you to sign in again');
  });

  it('answers reauthRequired when Apple signed the session out everywhere', async () => {
    const { handler, metrics } = setUp();
    await control.signOutAll();
    await control.mutate({ op: 'add', kind: 'photo', count: 1 });

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'signed-out'),
    );

    expect(result.outcome).toBe('reauthRequired');
    expect(metrics.values.get(METRICS.reauthRequired)).toBe(1);
  });
});
