/**
 * One in-process case of the fault matrix: the real detect and download handlers as successive
 * Lambda invocations (`CrashingLambdaRuntime`) over durable in-memory stores, against the
 * simulator. The case's fault is on for three scheduled rounds (the process crashes at its
 * durable write on the way), then it clears and the schedule keeps running, as it would for a
 * person, until the pipeline is caught up; a run that says only a person can help gets one
 * sign-in. Then the archive must equal the library and a deep verify must find nothing.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { parseSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { runVerify, type VerifyOutcome } from '#app/verify.ts';
import { type IcloudAdapters, openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { type CrashPoint, CrashSchedule, seededRandom } from '#test/fakes/crashing-invocation.ts';
import {
  CrashingLambdaRuntime,
  isLibraryObjectKey,
  ManualClock,
} from '#test/fakes/crashing-lambda-runtime.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { readStoreContents } from '../bucket-contents.ts';
import { signInToSimulator } from '../icloud-login.ts';
import { expectedDigests, type TruthAsset } from '../local-archive.ts';
import { caseSeed, type MatrixCase } from './cases.ts';
import { DURABLE_WRITE, KNOWN_FINDINGS } from './catalogue.ts';
import { catalogDifferences, sharedAlbumDifferences } from './derived-checks.ts';
import type { ArchiveDamage, CaseResult } from './figures.ts';
import {
  type ArmedFaults,
  appleCalls,
  armFaults,
  clearFaults,
  modeFired,
  pushesSoFar,
  takeFiredFaultIds,
  takeFiredFaults,
} from './simulator-faults.ts';
import { type MatrixWorld, openWorld, truthOf } from './world.ts';

const logger = createLogger({ level: 'SILENT' });
/** Each case's library: ten assets and one master shared into the Shared Library. */
const WORLD = { assets: 10, seed: 7 };
/** Scheduled rounds while the fault is on, and download invocations per round. */
const FAULTED_ROUNDS = 3;
const DOWNLOADS_PER_ROUND = 25;
/** Scheduled runs after the faults cleared (detection, then the downloads it queued), at most. */
const MAX_TICKS = 12;
const DOWNLOADS_PER_TICK = 60;
/** Times a person answers the sign-in alarm in one case. */
const MAX_HUMAN_LOGINS = 2;

function openIcloudWith(endpoint: IcloudEndpoint, store: FileSessionStore) {
  // Small pages: the first sync spans several checkpoints, so crashes land between them.
  return (): Promise<IcloudAdapters> => openIcloudAdapters({ endpoint, store, logger, pageSize: 8 });
}

/** The stored session says only a person can sign in again (the reauth latch). */
async function storedLatch(store: FileSessionStore): Promise<boolean> {
  const stored = await store.load();
  return stored !== undefined && parseSessionDocument(stored.document).signInNeeded !== undefined;
}

function crashPointsOf(c: MatrixCase, random: () => number): CrashPoint[] {
  const call = 1 + Math.floor(random() * 3);
  switch (c.crash) {
    case 'before':
    case 'after':
      return [{ on: DURABLE_WRITE[c.phase], call, when: c.crash }];
    case 'midStream':
      return [
        {
          on: c.phase === 'download' ? 'cdn.open' : DURABLE_WRITE[c.phase],
          call,
          when: 'midStream',
          fraction: random(),
        },
      ];
    default:
      return [];
  }
}

/**
 * A mid-stream crash drawn on a download that got no body (an error reply, a refused URL) or lost
 * it on the wire before the cut moved to the next download with one (`CrashSchedule.carry`); an
 * "after" crash drawn on a call that failed moved to the next that succeeded
 * (`CrashSchedule.carryPastFailure`); when none came, the crash never happened.
 */
function crashNoteOf(schedule: CrashSchedule): { crashNote?: string } {
  const { bodilessCalls, failedCalls } = schedule;
  if (bodilessCalls === 0 && failedCalls === 0) return {};
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const drawn = [
    ...(bodilessCalls > 0
      ? [
          `${plural(bodilessCalls, 'call', 'calls')} it landed on had no body to cut (an error reply, or a body broken on the wire first)`,
        ]
      : []),
    ...(failedCalls > 0
      ? [`${plural(failedCalls, 'call', 'calls')} it landed on failed (nothing written to crash after)`]
      : []),
  ].join(', ');
  return {
    crashNote:
      schedule.carried > 0
        ? `${drawn}, and no later call to its port got through`
        : `${drawn}; it moved to the next call that got through`,
  };
}

/** What the archive holds against the library: each count must be 0. */
async function damageOf(
  objects: InMemoryObjectStore,
  library: readonly TruthAsset[],
  listed: ReadonlySet<string>,
): Promise<ArchiveDamage> {
  const wanted = expectedDigests(library);
  const known = new Set(library.flatMap((a) => a.versions.flatMap((v) => (v.sha256 ? [v.sha256] : []))));
  const keysByDigest = new Map<string, number>();
  let corrupted = 0;
  let unlisted = 0;
  for (const key of objects.keys()) {
    if (!isLibraryObjectKey(key)) continue;
    const stored = await objects.getStream(key);
    if (stored === undefined) continue;
    const hash = createHash('sha256');
    for await (const chunk of stored.body) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    if (!known.has(sha256) || stored.head.metadata['icloud-sha256'] !== sha256) corrupted += 1;
    keysByDigest.set(sha256, (keysByDigest.get(sha256) ?? 0) + 1);
    if (!listed.has(key)) unlisted += 1;
  }
  const lost = [...wanted].filter((d) => !keysByDigest.has(d)).length;
  const copies = [...keysByDigest.values()].reduce((n, k) => n + (k - 1), 0);
  return { lost, duplicated: copies + unlisted, corrupted };
}

/** Runs one case on a simulator of its own (started and stopped here). */
export async function runInProcessCase(
  dir: string,
  c: MatrixCase,
  runSeed: number,
  index: number,
): Promise<CaseResult> {
  const world = await openWorld(join(dir, `case-${index}`), WORLD);
  try {
    return await runCase(world, c, runSeed);
  } finally {
    await world.sim.stop();
  }
}

async function runCase(world: MatrixWorld, c: MatrixCase, runSeed: number): Promise<CaseResult> {
  const started = Date.now();
  const { control, sim } = world;
  const seed = caseSeed(runSeed, c.id);
  const random = seededRandom(seed);
  const { sessionFile } = world;
  const store = new FileSessionStore(sessionFile);
  const openIcloud = openIcloudWith(world.endpoint, store);

  const clock = new ManualClock();
  const state = new InMemorySyncStateStore({ now: clock.now });
  const objects = new InMemoryObjectStore({ now: clock.now, partSize: MIN_PART_SIZE });
  const queue = new InMemoryWorkQueue();
  const crashPoints = crashPointsOf(c, random);
  const schedule = new CrashSchedule(crashPoints);
  const runtime = new CrashingLambdaRuntime({
    schedule,
    clock,
    state,
    objects,
    queue,
    openIcloud,
    deletePolicy: DEFAULT_DELETE_POLICY,
    versionPolicy: DEFAULT_VERSION_POLICY,
    sharedAlbums: { enabled: true, cadenceMs: 0 },
    seed,
    redeliveryRate: 0.1,
    maxInvocations: 400,
  });

  const problems: string[] = [];
  const library = await truthOf(control);
  await takeFiredFaults(control);
  const pushesAtStart = await pushesSoFar(control, sim.appleId);
  let humanPushes = 0;
  let humanLogins = 0;

  // The fault's window: three scheduled rounds. A quirk that rejects stored tokens needs some first.
  const action = c.mode.action(c.phase, random);
  const late = JSON.stringify(action.quirks ?? {}).includes('$storedTokens');
  let armed: ArmedFaults = late
    ? { switches: 0, ids: [] }
    : await armFaults(control, action, { phase: c.phase, library, random });
  for (let round = 0; round < FAULTED_ROUNDS; round++) {
    const faulted = await runtime.detectOnce();
    if (process.env.FAULT_MATRIX_DEBUG)
      process.stdout.write(`faulted round ${round}: ${JSON.stringify(faulted)?.slice(0, 300)}\n`);
    for (let i = 0; i < DOWNLOADS_PER_ROUND && (await runtime.downloadOnce()); i++);
    if (late && round === 0) {
      // Zone tokens and database tokens alike (finding 19: a refused database token is read afresh).
      const databases = await Promise.all([
        state.loadDatabaseState('private'),
        state.loadDatabaseState('shared'),
      ]);
      const storedTokens = [
        ...(await state.loadZones()).flatMap((z) => (z.syncToken ? [z.syncToken] : [])),
        ...databases.flatMap((d) => (d?.syncToken ? [d.syncToken] : [])),
      ];
      armed = await armFaults(control, action, { phase: c.phase, library, random, storedTokens });
    }
  }
  if (process.env.FAULT_MATRIX_DEBUG)
    process.stdout.write(
      `crash points ${JSON.stringify(crashPoints)}; calls under the fault: ${[...new Set([...crashPoints.flatMap((p) => p.on ?? []), 'state.putEntry', 'state.putEntries', 'objects.putStream', 'cdn.open'])].map((l) => `${l} ${schedule.callsTo(l)}`).join(', ')}; crashes ${JSON.stringify(schedule.fired)}; moved off ${schedule.bodilessCalls} bodiless and ${schedule.failedCalls} failed calls\n`,
    );
  const errorsUnderFault = runtime.report().unexpectedErrors.length;
  const crashesUnderFault = runtime.report().crashes.length;
  const calledUnderFault = (await appleCalls(control)) > 0;
  const firedIds = await takeFiredFaultIds(control);
  const faultsFired = firedIds.length + (calledUnderFault ? armed.switches : 0);
  const ownFired = modeFired(firedIds, armed, calledUnderFault);
  await clearFaults(control);

  // Ordinary scheduled runs until caught up; a person signs in when a run says only they can help.
  let reRuns = 0;
  let caughtUp = false;
  for (; reRuns < MAX_TICKS && !caughtUp; reRuns++) {
    const result = await runtime.detectOnce();
    if (process.env.FAULT_MATRIX_DEBUG)
      process.stdout.write(`tick ${reRuns}: ${JSON.stringify(result)?.slice(0, 300)}\n`);
    // The alarm asks a person to sign in: when a run said so, or the stored session says so (a
    // warm process can go on with a session its own refresh latched for the next cold start).
    const latched = result?.outcome === 'reauthRequired' || (await storedLatch(store));
    if (latched && humanLogins < MAX_HUMAN_LOGINS) {
      const before = await pushesSoFar(control, sim.appleId);
      await signInToSimulator(sim, sessionFile, { rememberPassword: true });
      humanPushes += (await pushesSoFar(control, sim.appleId)) - before;
      humanLogins += 1;
      continue;
    }
    let downloads = 0;
    while (downloads < DOWNLOADS_PER_TICK && (await runtime.downloadOnce())) downloads++;
    // Caught up: an idle run found nothing left to download. The catalog's fold and the album
    // views follow the workers by one run (they are written by detection), so a run after the
    // last download is the one that brings them up to date.
    caughtUp =
      result !== undefined && result.outcome === 'idle' && downloads === 0 && !(await storedLatch(store));
  }
  if (!caughtUp) problems.push(`not caught up after ${MAX_TICKS} scheduled runs once the faults cleared`);
  const report = runtime.report();
  // A failed invocation while Apple misbehaves is the schedule's business (the next tick runs);
  // one after the faults cleared is a finding.
  const invocationErrors = errorsUnderFault;
  problems.push(...report.unexpectedErrors.slice(errorsUnderFault));
  const unattendedPushes = (await pushesSoFar(control, sim.appleId)) - pushesAtStart - humanPushes;

  const truth = await truthOf(control);
  const audit = await runtime.audit();
  problems.push(...audit.problems);
  const listed = new Set(audit.entries.flatMap((e) => e.versions.map((v) => v.key)));
  const damage = await damageOf(objects, truth, listed);
  let verifyDifferences = 0;
  try {
    const verified = await runVerify(
      {
        state,
        objects,
        icloud: openIcloud,
        versionPolicy: DEFAULT_VERSION_POLICY,
        now: clock.now,
        sharedAlbumState: runtime.sharedAlbumState,
      },
      { deep: true, etagsAreMd5: true },
    );
    // Any difference fails the case: the library's, the album views' and the Shared Albums'.
    verifyDifferences = verified.differences;
    if (verified.differences > 0 || !verified.report.ok)
      problems.push(`verify --deep: ${verifyFindings(verified)}`);
  } catch (error) {
    verifyDifferences = 1;
    problems.push(`verify --deep threw: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bucket = await readStoreContents(objects);
  problems.push(...catalogDifferences(bucket, audit.entries, truth));
  const me = (await control.session()).dsid;
  problems.push(
    ...(await sharedAlbumDifferences(control, me, runtime.sharedAlbumState, new Set(bucket.objects.keys()))),
  );
  if (unattendedPushes > 0) problems.push(`${unattendedPushes} two-factor pushes while no one was there`);
  await takeFiredFaults(control);

  const recovered =
    problems.length === 0 && damage.lost === 0 && damage.duplicated === 0 && damage.corrupted === 0;
  return {
    id: c.id,
    seed,
    ...(KNOWN_FINDINGS[c.mode.id] ? { knownFinding: KNOWN_FINDINGS[c.mode.id] } : {}),
    faultsFired,
    modeFired: ownFired,
    invocationErrors,
    crashesPlanned: crashPoints.length,
    crashes: report.crashes.length,
    crashesUnderFault,
    ...crashNoteOf(schedule),
    recovered,
    unattendedPushes,
    humanLogins,
    reRuns,
    verifyDifferences,
    problems,
    ...damage,
    ms: Date.now() - started,
  };
}

/** Verify's findings in short: the library's report, the album views', the Shared Albums'. */
function verifyFindings(verified: VerifyOutcome): string {
  const parts: string[] = [];
  if (!verified.report.ok) parts.push(`library ${JSON.stringify(verified.report).slice(0, 300)}`);
  for (const f of (verified.albums?.findings ?? []).slice(0, 5))
    parts.push(`album ${JSON.stringify(f).slice(0, 160)}`);
  const shared = verified.sharedAlbums;
  if (shared !== undefined && !shared.ok)
    parts.push(
      `shared albums ${JSON.stringify({ missing: shared.missing, extra: shared.extra, sizes: shared.sizeMismatches }).slice(0, 300)}`,
    );
  return `${verified.differences} differences: ${parts.join('; ')}`;
}
