/**
 * One process case of the fault matrix: `icloud-s3 sync --local` runs as a person runs it (its
 * own process group, with the local S3, DynamoDB and SQS it starts), the case's fault is on, and
 * the process is killed with SIGKILL (the process alone, or its whole group) once the simulator
 * has seen it reach the case's phase a seeded number of times. Then the faults clear and `sync`
 * runs again as a schedule would (a person signs in if it exits 3), and the archive must equal
 * the library, byte for byte, once each, with `verify --deep` clean.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLocalAws, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { seededRandom } from '#test/fakes/crashing-invocation.ts';
import { readBucketContents } from '../bucket-contents.ts';
import { signInToSimulator } from '../icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '../local-archive.ts';
import { CLI_ENTRY, runCli } from '../run-cli.ts';
import { caseSeed, type MatrixCase } from './cases.ts';
import { KNOWN_FINDINGS, PHASE_ENDPOINT } from './catalogue.ts';
import { catalogDifferences, sharedAlbumDifferences } from './derived-checks.ts';
import type { CaseResult } from './figures.ts';
import {
  armFaults,
  clearFaults,
  modeFired,
  pushesSoFar,
  takeFiredFaultIds,
  takeFiredFaults,
} from './simulator-faults.ts';
import { type MatrixWorld, openWorld, truthOf } from './world.ts';

/** Each case's library: eight assets and one master shared into the Shared Library. */
const WORLD = { assets: 8, seed: 31 };
/** `sync` runs after the faults cleared, at most (a person's day of scheduled runs is more). */
const MAX_SYNCS = 4;
/** A sync that neither reached the kill point nor ended in this long is killed anyway. */
const KILL_DEADLINE_MS = 60_000;

export interface Killed {
  /**
   * The sync died of the SIGKILL this sent (its exit says so), not of its own end just before; for
   * a group kill, every process of its group is gone too.
   */
  readonly killed: boolean;
  /** Calls to the endpoint the poll had seen when it sent the signal (or when the sync ended). */
  readonly calls: number;
  /** Calls to the endpoint in the simulator's log once the sync was dead: where it really died. */
  readonly callsAtDeath: number;
  /** How the sync ended: `signal` SIGKILL when the kill landed. */
  readonly exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
  /** Processes of the killed group still alive after a group kill (their pids): none, or a finding. */
  readonly survivors: readonly number[];
  /** Why the kill did not land, when it did not. */
  readonly missed?: string;
}

/** Live processes (not zombies) of process group `group`, from /proc (Linux; none elsewhere). */
async function liveMembers(group: number): Promise<number[]> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const pid of pids) {
    try {
      // `pid (comm) state ppid pgrp ...`: comm may hold spaces, so read after its last ')'.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === group && state !== 'Z' && state !== 'X') live.push(Number(pid));
    } catch {
      // gone while we looked
    }
  }
  return live;
}

/** Apple calls to `endpoint` in the simulator's request log (without clearing it). */
async function callsTo(world: MatrixWorld, endpoint: string): Promise<number> {
  const { requests } = await world.control.call<{ requests: { endpoint: string }[] }>(
    'GET',
    '/requests?limit=1000',
  );
  return requests.filter((r) => r.endpoint === endpoint).length;
}

/**
 * Starts `sync` in its own process group and SIGKILLs it at the `killAt`-th call to `endpoint`,
 * then checks the kill landed: the sync died of that signal (not of its own end a moment before),
 * and a group kill left no process of the group running.
 */
export async function syncAndKill(
  world: MatrixWorld,
  args: readonly string[],
  endpoint: string,
  killAt: number,
  group: boolean,
): Promise<Killed> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exited = new Promise<Killed['exit']>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  const started = Date.now();
  let sent = false;
  let calls = 0;
  while (!ended && Date.now() - started < KILL_DEADLINE_MS) {
    calls = await callsTo(world, endpoint);
    if (calls >= killAt && child.pid !== undefined) {
      try {
        if (group) process.kill(-child.pid, 'SIGKILL');
        else process.kill(child.pid, 'SIGKILL');
        sent = true;
      } catch {
        // it ended on its own between the poll and the signal
      }
      break;
    }
    await sleep(25);
  }
  const deadline = !sent && !ended;
  if (deadline && child.pid !== undefined)
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // it ended on its own meanwhile
    }
  const exit = await exited;
  const callsAtDeath = await callsTo(world, endpoint);
  // A SIGKILLed group is gone at once; a member still running a moment later escaped the kill.
  let survivors: number[] = [];
  if (sent && group && child.pid !== undefined)
    for (let i = 0; i < 20; i++) {
      survivors = await liveMembers(child.pid);
      if (survivors.length === 0) break;
      await sleep(50);
    }
  // What outlived a kill of the process alone (its servers) is left a moment to do what orphans
  // do, then stopped so the case leaves nothing running.
  if (child.pid !== undefined) {
    await sleep(300);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
  const killed = sent && exit.signal === 'SIGKILL';
  const missed = killed
    ? undefined
    : deadline
      ? `the sync made ${calls} of the ${killAt} calls to ${endpoint} the kill waited for in ${KILL_DEADLINE_MS / 1000} s`
      : `the sync ended on its own (exit ${exit.code ?? exit.signal}) after ${callsAtDeath} calls to ${endpoint}, before the kill at call ${killAt}`;
  return { killed, calls, callsAtDeath, exit, survivors, ...(missed ? { missed } : {}) };
}

/** Verify's differences from its `--json` result (library, album views, Shared Albums); 1 when unreadable. */
function verifyFindings(stdout: string): number {
  try {
    const result = JSON.parse(stdout) as {
      status?: string;
      missing?: unknown[];
      extra?: unknown[];
      sizeMismatches?: unknown[];
      checksumMismatches?: unknown[];
      albums?: { findings?: unknown[] };
      sharedAlbums?: { missing?: unknown[]; extra?: unknown[]; sizeMismatches?: unknown[] };
    };
    const count = [
      result.missing,
      result.extra,
      result.sizeMismatches,
      result.checksumMismatches,
      result.albums?.findings,
      result.sharedAlbums?.missing,
      result.sharedAlbums?.extra,
      result.sharedAlbums?.sizeMismatches,
    ].reduce((n, list) => n + (list?.length ?? 0), 0);
    return count === 0 && result.status !== 'ok' ? 1 : count;
  } catch {
    return 1;
  }
}

/** The catalog against the manifest and iCloud's albums, and the Shared Albums against iCloud's. */
async function derivedDifferences(
  world: MatrixWorld,
  dataDir: string,
  truth: readonly TruthAsset[],
): Promise<string[]> {
  const bucket = await readBucketContents(dataDir);
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const entries: ManifestEntry[] = [];
    for await (const entry of stack.state.entries()) entries.push(entry);
    return [
      ...catalogDifferences(bucket, entries, truth),
      ...(await sharedAlbumDifferences(
        world.control,
        (
          await world.control.session()
        ).dsid,
        stack.sharedAlbumState,
        new Set(bucket.objects.keys()),
      )),
    ];
  } finally {
    await stack.stop();
  }
}

/**
 * Where the killed sync had got to, when that is past the case's phase: every version recorded in
 * the manifest (a `download` kill after the downloads' work was done), or every zone's token and
 * the database's saved (a `detection page` kill after detection's walk). Undefined: the kill
 * landed in its phase. Read from the local DynamoDB alone (about 0.1 s; the bucket's server would
 * take seconds to start).
 */
async function outsidePhase(
  phase: MatrixCase['phase'],
  dataDir: string,
  library: readonly TruthAsset[],
): Promise<string | undefined> {
  const aws = await openLocalAws({ dataDir });
  try {
    if (phase === 'download') {
      const wanted = expectedDigests(library);
      const recorded = new Set<string>();
      for await (const entry of aws.state.entries()) for (const v of entry.versions) recorded.add(v.sha256);
      const done = [...wanted].filter((d) => recorded.has(d)).length;
      return done === wanted.size
        ? `killed after the downloads' work was done: all ${wanted.size} versions were in the manifest`
        : undefined;
    }
    const zones = await aws.state.loadZones();
    const database = await aws.state.loadDatabaseState('private');
    const walked = zones.length > 0 && zones.every((z) => z.syncToken) && database?.syncToken !== undefined;
    return walked
      ? `killed after detection's walk: the tokens of all ${zones.length} zones and the database were saved`
      : undefined;
  } finally {
    await aws.stop();
  }
}

/** Runs one case on a simulator of its own (started and stopped here). */
export async function runProcessCase(
  dir: string,
  c: MatrixCase,
  runSeed: number,
  index: number,
): Promise<CaseResult> {
  const world = await openWorld(join(dir, `process-${index}`), WORLD);
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
  const dataDir = join(world.dir, 'data');
  const common = ['--local', dataDir, '--endpoint', sim.controlUrl, '--session-file', sessionFile];
  const problems: string[] = [];

  const library = await truthOf(control);
  await takeFiredFaults(control);
  const pushesAtStart = await pushesSoFar(control, sim.appleId);
  const action = c.mode.action(c.phase, random);
  const armed = await armFaults(control, action, { phase: c.phase, library, random });
  // Slow downloads a little so a kill during them lands with work still queued.
  if (c.phase === 'download') await control.injectFault({ endpoint: 'cdn', delayMs: 40 });
  const endpoint = PHASE_ENDPOINT[c.phase] === 'cdn' ? 'cdn' : 'records/query';
  const killAt = 1 + Math.floor(random() * (endpoint === 'cdn' ? 6 : 3));
  const kill = await syncAndKill(
    world,
    ['sync', ...common, '--json'],
    endpoint,
    killAt,
    c.crash === 'sigkill-group',
  );
  const firedIds = await takeFiredFaultIds(control);
  // The kill must have landed, and landed in the case's phase: downloads still to do, or detection
  // not through every zone yet. A kill that did not is reported as a crash that never happened.
  if (kill.survivors.length > 0)
    problems.push(`processes of the killed group still running after SIGKILL: ${kill.survivors.join(', ')}`);
  const checkStarted = Date.now();
  const miss = kill.missed ?? (await outsidePhase(c.phase, dataDir, library));
  const checkMs = Date.now() - checkStarted;
  const landed = kill.killed && miss === undefined;
  const crashNote = miss;
  if (process.env.FAULT_MATRIX_DEBUG)
    process.stdout.write(
      `kill: ${JSON.stringify({ drawn: killAt, endpoint, seenAtSignal: kill.calls, atDeath: kill.callsAtDeath, exit: kill.exit, landed, miss, checkMs })}\n`,
    );
  const faultsFired = firedIds.length + armed.switches;
  // The sync always calls Apple before it is killed: a switch in force counts as played.
  const ownFired = modeFired(firedIds, armed, true);
  await clearFaults(control);

  let humanPushes = 0;
  let humanLogins = 0;
  let reRuns = 0;
  let lastCode = -1;
  let idle = false;
  const outcomes: string[] = [];
  for (; reRuns < MAX_SYNCS && !idle; reRuns++) {
    const run = await runCli(['sync', ...common, '--json']);
    lastCode = run.code;
    if (run.code === 3 && humanLogins < 2) {
      const before = await pushesSoFar(control, sim.appleId);
      await signInToSimulator(sim, sessionFile, { rememberPassword: true });
      humanPushes += (await pushesSoFar(control, sim.appleId)) - before;
      humanLogins += 1;
      continue;
    }
    const summary = (run.stdout.trim() ? JSON.parse(run.stdout) : {}) as {
      outcome?: string;
      status?: string;
    };
    if (process.env.FAULT_MATRIX_DEBUG)
      process.stdout.write(`sync ${reRuns + 1}: ${run.code} ${run.stdout}\n${run.stderr}\n`);
    outcomes.push(`${run.code}:${summary.outcome ?? summary.status}`);
    idle = run.code === 0 && (summary.outcome ?? summary.status) === 'idle';
  }
  if (!idle)
    problems.push(
      `not idle after ${MAX_SYNCS} syncs once the faults cleared (${outcomes.join(', ')}, last exit ${lastCode})`,
    );
  const unattendedPushes = (await pushesSoFar(control, sim.appleId)) - pushesAtStart - humanPushes;
  if (unattendedPushes > 0) problems.push(`${unattendedPushes} two-factor pushes while no one was there`);

  const verify = await runCli(['verify', ...common, '--deep', '--json']);
  // Any difference fails the case: the library's, the album views' and the Shared Albums'.
  const verifyDifferences = verifyFindings(verify.stdout);
  if (verify.code !== 0 || verifyDifferences > 0)
    problems.push(
      `verify --deep exited ${verify.code} with ${verifyDifferences} differences: ${verify.stdout.slice(0, 400)}${verify.stderr.slice(-200)}`,
    );
  const truth = await truthOf(control);
  problems.push(...(await derivedDifferences(world, dataDir, truth)));
  const wanted = expectedDigests(truth);
  const known = new Set(truth.flatMap((a) => a.versions.flatMap((v) => (v.sha256 ? [v.sha256] : []))));
  const digests = (await readLocalArchive(dataDir)).map((o) => o.metadata['icloud-sha256'] ?? '');
  const present = new Set(digests);
  const lost = [...wanted].filter((d) => !present.has(d)).length;
  const duplicated = digests.length - present.size;
  const corrupted = digests.filter((d) => !known.has(d)).length;
  await takeFiredFaults(control);

  return {
    id: c.id,
    seed,
    ...(KNOWN_FINDINGS[c.mode.id] ? { knownFinding: KNOWN_FINDINGS[c.mode.id] } : {}),
    faultsFired,
    modeFired: ownFired,
    crashesPlanned: 1,
    crashes: landed ? 1 : 0,
    crashesUnderFault: landed ? 1 : 0,
    ...(crashNote ? { crashNote } : {}),
    invocationErrors: 0,
    recovered: problems.length === 0 && lost === 0 && duplicated === 0 && corrupted === 0,
    unattendedPushes,
    humanLogins,
    reRuns,
    verifyDifferences,
    problems,
    lost,
    duplicated,
    corrupted,
    ms: Date.now() - started,
  };
}
