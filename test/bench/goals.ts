/**
 * Section 0, the goals of issue 12 ("Archive at the speed of the wire"): each goal measured with
 * today's code through the entry points that outlive a restructuring (the CLI binary
 * `bin/icloud-s3.mjs`, the Lambda bundles built from the entry files wherever they live, the
 * download worker of the archive sections), beside a baseline measured in the same run, so a
 * change is judged by a ratio on one machine at one load rather than by a remembered number.
 *
 * Requests to the local AWS servers are counted inside the CLI process by a preloaded observer
 * (support/request-counter.ts: Node's diagnostics channels), without touching `functions/`.
 *
 * The CLI is measured as a person runs it: the compiled build (`npm run build`, made afresh here,
 * so `bin/` never falls back to tsx), with no tsx in its process (the observer is compiled to
 * JavaScript first: tsx's loader thread alone added some 60 MB to every run). The idle run is
 * timed and its memory measured in a run of its own, with nothing preloaded; its requests are
 * counted in a second one.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { ensureBucket } from '#local/servers/provision.ts';
import { startS3Server } from '#local/servers/s3-server.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient } from '#test/helpers/simulator.ts';
import type { DownloadJob, DownloadJobResult, UploadShape } from './download-worker.ts';
import { openArchiveFixture } from './support/archive-fixture.ts';
import { loadFactor, runChildJob, scaledLimitMs } from './support/child-job.ts';
import { bundleLambda, fileUrl, importCost, LAMBDA_FUNCTIONS } from './support/lambda-bundles.ts';
import { runProcessTree, type TreeRun } from './support/process-tree.ts';
import { runReferenceClient } from './support/reference-client.ts';
import type { ProcessRequestLog } from './support/request-counter.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { MIB, mib, seconds } from './support/units.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'icloud-s3.mjs');
const COUNTER = fileURLToPath(new URL('./support/request-counter.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('./download-worker.ts', import.meta.url));
const REFERENCE_BUCKET = 'reference';

/** One goal of the issue: its figure, the baseline measured in the same run, and whether it is met. */
export interface GoalRow {
  readonly goal: string;
  readonly target: string;
  readonly figure: string;
  readonly baseline: string;
  /** figure / baseline (or baseline / figure for rates), as the target states it. */
  readonly ratio: number | undefined;
  readonly met: boolean | undefined;
  /** Handler CPU: figure / (raw upload + MD5 + SHA-256 of the same bytes), the integrity floor. */
  readonly ratioToIntegrityFloor?: number | undefined;
}

export interface GoalFigures {
  /** The machine's load when the section started: per core, and the factor child limits were scaled by. */
  readonly loadAverage: number;
  readonly loadFactor: number;
  readonly rows: readonly GoalRow[];
  /** The raw figures behind the rows (requests by operation, work item sizes, timings). */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface GoalOptions {
  readonly assets: number;
  readonly photoBytes: number;
  readonly tinyBytes: number;
  readonly concurrency: number;
  readonly upload: UploadShape;
  readonly log: (line: string) => void;
}

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;
const ratioOf = (a: number, b: number) => (b > 0 ? round(a / b) : undefined);
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** Wall and peak RSS of a short command, median of three (the kernel's high-water mark, process-tree.ts). */
async function shortCommand(args: readonly string[]) {
  const runs: { wallMs: number; maxRssMiB: number; stdout: string; code: number | null }[] = [];
  for (let i = 0; i < 3; i++) {
    const run = await runProcessTree(process.execPath, args, { timeoutMs: scaledLimitMs(20_000) });
    runs.push({
      wallMs: run.wallMs,
      maxRssMiB: mib(run.treeHighWaterBytes ?? 0),
      stdout: run.stdout,
      code: run.code,
    });
  }
  const wall = median(runs.map((r) => r.wallMs));
  const rss = median(runs.map((r) => r.maxRssMiB));
  return { wallMs: wall, maxRssMiB: rss, stdout: runs[0]?.stdout ?? '', code: runs[0]?.code ?? null };
}

interface IdleRuns {
  readonly sync: CliSync;
  readonly appleRequests: number;
  /** Of `appleRequests`, the Shared Albums check (`webgetalbumslist`). */
  readonly sharedAlbumsListings: number;
  readonly measured: readonly TreeRun[];
}

interface CliSync {
  readonly run: TreeRun;
  readonly summary: { assets?: { archived?: number }; status?: string } | undefined;
  readonly requests: ProcessRequestLog;
}

/** The compiled CLI, built afresh: what `npm ci` leaves a person (scripts/build-cli.mjs). */
async function buildCli(): Promise<void> {
  const built = await runProcessTree(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], {
    timeoutMs: scaledLimitMs(120_000),
  });
  if (built.code !== 0) throw new Error(`npm run build failed: ${built.stderr.slice(-400)}`);
}

/** The request observer as one JavaScript file, so the measured process needs no tsx. */
async function compiledCounter(dir: string): Promise<string> {
  const outfile = join(dir, 'request-counter.mjs');
  await build({
    entryPoints: [COUNTER],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * `icloud-s3 sync` through the binary, with the request observer preloaded (`counter`), or with
 * nothing preloaded (`counter` undefined: its requests are not counted).
 */
async function cliSync(options: {
  readonly controlUrl: string;
  readonly sessionFile: string;
  readonly localDir: string;
  readonly concurrency: number;
  readonly baseLimitMs: number;
  readonly counter: string | undefined;
}): Promise<CliSync> {
  const logDir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-requests-'));
  try {
    const run = await runProcessTree(
      process.execPath,
      [
        ...(options.counter === undefined ? [] : ['--import', options.counter]),
        BIN,
        '--endpoint',
        options.controlUrl,
        '--session-file',
        options.sessionFile,
        '--local',
        options.localDir,
        '--json',
        'sync',
        '--concurrency',
        String(options.concurrency),
      ],
      {
        env: { ...process.env, BENCH_REQUEST_LOG_DIR: logDir },
        timeoutMs: scaledLimitMs(options.baseLimitMs),
      },
    );
    const requests: ProcessRequestLog = {
      aws: {},
      awsByItem: {},
      workItemBytes: [],
      workMessages: 0,
      icloud: { query: [], changes: [], download: [], other: [] },
    };
    for (const file of await readdir(logDir)) {
      const one = JSON.parse(await readFile(join(logDir, file), 'utf8')) as ProcessRequestLog;
      for (const [key, n] of Object.entries(one.aws)) requests.aws[key] = (requests.aws[key] ?? 0) + n;
      for (const [key, n] of Object.entries(one.awsByItem ?? {}))
        requests.awsByItem[key] = (requests.awsByItem[key] ?? 0) + n;
      requests.workItemBytes.push(...one.workItemBytes);
      requests.workMessages += one.workMessages;
      for (const kind of ['query', 'changes', 'download', 'other'] as const)
        requests.icloud[kind].push(...one.icloud[kind]);
    }
    let summary: CliSync['summary'];
    try {
      summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as CliSync['summary'];
    } catch {
      summary = undefined;
    }
    if (run.code !== 0 || run.timedOut)
      throw new Error(
        `icloud-s3 sync ${run.timedOut ? 'timed out' : `exited ${run.code}`}: ${run.stderr.slice(-800)}`,
      );
    return { run, summary, requests };
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
}

/** The AWS requests the goal counts: all but the object writes themselves (PUT, parts). */
const UPLOAD_OPERATIONS = new Set([
  's3:PutObject',
  's3:UploadPart',
  's3:CreateMultipartUpload',
  's3:CompleteMultipartUpload',
]);
const countedRequests = (aws: Readonly<Record<string, number>>) =>
  Object.entries(aws).reduce((sum, [key, n]) => sum + (UPLOAD_OPERATIONS.has(key) ? 0 : n), 0);

/** First sync of `count` photos of `sizeBytes` by the CLI and by the reference client, then an idle CLI run. */
async function firstSync(
  options: GoalOptions,
  counter: string,
  sizeBytes: number,
  seed: number,
  withIdle: boolean,
) {
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-goals-'));
  const sim = await startSimulatorProcess({ assets: 0, seed, mediaScale: 0.001 });
  // The reference client's S3: the same server the CLI starts for itself (s3rver, own process).
  const referenceS3 = await startS3Server({ directory: join(dir, 'reference-s3') });
  try {
    const control = controlClient(sim);
    await control.mutate({ op: 'add', kind: 'photo', count: options.assets, sizeBytes });
    const sessionFile = join(dir, 'session.json');
    await signInToSimulator(sim, sessionFile);
    const localDir = join(dir, 'archive');
    await mkdir(localDir, { recursive: true });
    const bytes = options.assets * sizeBytes;
    const baseLimitMs = 120_000 + (bytes / 5e6) * 1000;

    options.log(
      `goals: icloud-s3 sync, first sync of ${options.assets} photos of ${round(sizeBytes / 1e3)} kB`,
    );
    await control.resetStats();
    const ours = await cliSync({
      controlUrl: sim.controlUrl,
      sessionFile,
      localDir,
      concurrency: options.concurrency,
      baseLimitMs,
      counter,
    });
    const oursStats = await control.stats();

    options.log(`goals: reference client, the same ${options.assets} photos`);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: referenceS3.endpoint,
      forcePathStyle: true,
      // s3rver knows one key pair.
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await ensureBucket(s3, REFERENCE_BUCKET);
    const reference = await runReferenceClient({
      sim,
      code: () => control.code(sim.appleId),
      s3,
      bucket: REFERENCE_BUCKET,
      concurrency: options.concurrency,
    });
    s3.destroy();
    if (reference.assets !== options.assets)
      throw new Error(`the reference client copied ${reference.assets} of ${options.assets} photos`);

    let idle: IdleRuns | undefined;
    if (withIdle) {
      const again = (counted: string | undefined) =>
        cliSync({
          controlUrl: sim.controlUrl,
          sessionFile,
          localDir,
          concurrency: options.concurrency,
          baseLimitMs: 60_000,
          counter: counted,
        });
      options.log('goals: icloud-s3 sync again, nothing changed (idle run, requests counted)');
      await control.resetStats();
      const sync = await again(counter);
      const stats = await control.stats();
      const appleRequests = stats.total;
      // The simulator's account owns and joined Shared Albums: their check is one listing.
      const sharedAlbumsListings = stats.requests['sharedstreams/webgetalbumslist'] ?? 0;
      options.log('goals: three more idle runs, nothing preloaded, timed and measured');
      const measured: TreeRun[] = [];
      for (let i = 0; i < 3; i++) measured.push((await again(undefined)).run);
      idle = { sync, appleRequests, sharedAlbumsListings, measured };
    }
    return { ours, oursApple: oursStats, reference, idle, bytes };
  } finally {
    await referenceS3.stop();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * CPU per GB of the handler against the raw upload, and peak RSS growth at 1x and 4x the file size.
 *
 * CPU per GB is a steady-state figure: each worker first sends one 16 MiB video (two parts)
 * through its own path, uncounted (download-worker.ts, "Warm-up"), so what a process pays once
 * (tsx compiling modules at first import, session open, first connections, the first DynamoDB
 * requests, V8 compiling hot code) is not charged to the 128 MiB measured. Both paths are warmed
 * alike; the raw path's own one-time cost leaves its window too, so the baseline is not weakened.
 * The raw worker also measures MD5 + SHA-256 of the bytes it moved (the integrity the issue
 * requires): raw + hashes is the floor for any handler that checks every byte.
 */
async function handlerCpuAndMemory(options: GoalOptions) {
  const fixture = await openArchiveFixture({ seed: 12 });
  try {
    const run = (job: DownloadJob, bytes: number) =>
      runChildJob<DownloadJobResult>(WORKER, job, 60_000 + (bytes / 5e6) * 1000);
    const files = 4;
    const fileBytes = 32 * MIB;
    const warmUpBytes = 16 * MIB;
    options.log(
      `goals: CPU per GB, ${files} x ${mib(fileBytes)} MiB after a ${mib(warmUpBytes)} MiB warm-up, raw upload then handler`,
    );
    const warmRaw = await fixture.addVideos(1, warmUpBytes);
    const forRaw = await fixture.addVideos(files, fileBytes);
    const raw = await run(
      {
        mode: 'raw-s3',
        urls: fixture.originalUrls(forRaw.assets),
        streams: 1,
        aws: fixture.aws,
        upload: options.upload,
        warmUpUrls: fixture.originalUrls(warmRaw.assets),
        hashFloor: true,
      },
      warmRaw.bytes + forRaw.bytes,
    );
    const warmHandler = await fixture.addVideos(1, warmUpBytes);
    const forHandler = await fixture.addVideos(files, fileBytes);
    const handler = await run(
      {
        mode: 'pipeline',
        controlUrl: fixture.sim.controlUrl,
        sessionFile: fixture.sessionFile,
        aws: fixture.aws,
        upload: options.upload,
        messages: fixture.messages(forHandler.assets, files),
        warmUpMessages: fixture.messages(warmHandler.assets, 1),
      },
      warmHandler.bytes + forHandler.bytes,
    );
    if ((handler.failed ?? 0) > 0) throw new Error(`the handler failed ${handler.failed} item(s)`);
    const growth: number[] = [];
    // Both well past what lib-storage holds (part x queue = 32 MiB by default), 4x apart.
    for (const size of [128 * MIB, 512 * MIB]) {
      options.log(`goals: memory, one ${mib(size)} MiB video through the handler`);
      const video = await fixture.addVideos(1, size);
      const result = await run(
        {
          mode: 'pipeline',
          controlUrl: fixture.sim.controlUrl,
          sessionFile: fixture.sessionFile,
          aws: fixture.aws,
          upload: options.upload,
          messages: fixture.messages(video.assets, 1),
        },
        size,
      );
      growth.push(result.rss.peakBytes - result.rss.beforeBytes);
    }
    const perGb = (r: DownloadJobResult, cpuMs = r.cpuMs) => cpuMs / 1000 / (r.bytes / 1e9);
    return {
      rawCpuPerGb: perGb(raw),
      hashCpuPerGb: perGb(raw, raw.hashCpuMs ?? 0),
      handlerCpuPerGb: perGb(handler),
      warmUpMiB: mib(warmUpBytes),
      growth,
    };
  } finally {
    await fixture.stop();
  }
}

async function lambdaColdStart(options: GoalOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-bundles-'));
  try {
    options.log('goals: Lambda bundles (esbuild) and their import cost');
    const empty = await importCost('data:text/javascript,export const handler = () => 1;', {});
    const functions = [];
    for (const name of LAMBDA_FUNCTIONS) {
      const bundle = await bundleLambda(ROOT, name, dir);
      const cost = await importCost(fileUrl(bundle.outfile), {});
      functions.push({ name, entry: bundle.entry.slice(ROOT.length), bytes: bundle.bytes, cost });
    }
    return { empty, functions };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs one group of measurements; if it fails, its goals are still printed, as failed with the
 * reason, and the groups after it run: a finished row is never thrown away for a later one.
 */
async function attempt(
  rows: GoalRow[],
  name: string,
  goals: readonly string[],
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    for (const goal of goals)
      rows.push({
        goal,
        target: '-',
        figure: `FAILED (${name}): ${reason.slice(0, 160)}`,
        baseline: '-',
        ratio: undefined,
        met: false,
      });
  }
}

export async function measureGoals(options: GoalOptions): Promise<GoalFigures> {
  const loadAverage = round((await import('node:os')).loadavg()[0] ?? 0);
  const factor = loadFactor();
  const rows: GoalRow[] = [];
  const details: Record<string, unknown> = {};

  options.log('goals: npm run build (the compiled CLI every run below uses)');
  await buildCli();
  options.log('goals: icloud-s3 --help / --version against node -e 0');
  const bare = await shortCommand(['-e', '0']);
  const help = await shortCommand([BIN, '--help']);
  const version = await shortCommand([BIN, '--version']);
  details['cli'] = { bare, help: { ...help, stdout: undefined }, version };
  rows.push(
    {
      goal: 'CLI --help wall',
      target: '<= 0.3 s',
      figure: `${round(help.wallMs / 1000)} s`,
      baseline: `node -e 0: ${round(bare.wallMs / 1000)} s`,
      ratio: ratioOf(help.wallMs, bare.wallMs),
      met: help.wallMs <= 300,
    },
    {
      goal: 'CLI --help RSS',
      target: '<= 60 MB',
      figure: `${round((help.maxRssMiB * MIB) / 1e6, 1)} MB`,
      baseline: `node -e 0: ${round((bare.maxRssMiB * MIB) / 1e6, 1)} MB`,
      ratio: ratioOf(help.maxRssMiB, bare.maxRssMiB),
      met: (help.maxRssMiB * MIB) / 1e6 <= 60,
    },
    {
      goal: 'CLI --version',
      target: 'prints the version',
      figure:
        version.code === 0
          ? `${version.stdout.trim()} in ${round(version.wallMs / 1000)} s`
          : `exit ${version.code}`,
      baseline: '-',
      ratio: undefined,
      met: version.code === 0 && /\d+\.\d+\.\d+/.test(version.stdout),
    },
  );

  await attempt(
    rows,
    'first sync',
    ['requests per asset', 'first sync', 'work items', 'idle run'],
    async () => {
      const counterDir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-counter-'));
      const counter = await compiledCounter(counterDir);
      const [small, tiny] = await (async () => {
        try {
          return [
            await firstSync(options, counter, options.photoBytes, 21, true),
            await firstSync(options, counter, options.tinyBytes, 22, false),
          ] as const;
        } finally {
          await rm(counterDir, { recursive: true, force: true });
        }
      })();
      const oursMs = (s: typeof small) => s.ours.run.wallMs;
      const referenceMs = (s: typeof small) => s.reference.ms - s.reference.signInMs;
      const archived = small.ours.summary?.assets?.archived ?? 0;
      const idleRequests = small.idle ? countedRequests(small.idle.sync.requests.aws) : 0;
      const perAsset =
        archived > 0 ? (countedRequests(small.ours.requests.aws) - idleRequests) / archived : undefined;
      const items = small.ours.requests.workItemBytes;
      const timeline = small.ours.requests.icloud;
      const lastQuery = Math.max(...timeline.query, ...timeline.changes, 0);
      const firstDownload = Math.min(...timeline.download, Number.POSITIVE_INFINITY);
      details['firstSync'] = {
        small: {
          oursMs: round(oursMs(small)),
          oursAppleRequests: small.oursApple.requests,
          awsRequests: small.ours.requests.aws,
          awsRequestsByItem: small.ours.requests.awsByItem,
          idleAwsRequests: small.idle?.sync.requests.aws,
          archived,
          referenceMs: round(small.reference.ms),
          referenceSignInMs: round(small.reference.signInMs),
          referencePages: small.reference.pages,
          peakTreeRssMiB: mib(small.ours.run.peakTreeRssBytes ?? 0),
        },
        tiny: {
          oursMs: round(oursMs(tiny)),
          referenceMs: round(tiny.reference.ms),
          referenceSignInMs: round(tiny.reference.signInMs),
          archived: tiny.ours.summary?.assets?.archived,
        },
        workItems: {
          messages: small.ours.requests.workMessages,
          items: items.length,
          maxBytes: Math.max(0, ...items),
          medianBytes: median(items),
        },
        timeline: {
          queries: timeline.query.length,
          changes: timeline.changes.length,
          lastQuery,
          firstDownload,
        },
      };
      rows.push(
        {
          goal: 'AWS requests per archived asset (not CDN GET, not S3 PUT)',
          target: '<= 2',
          figure: perAsset === undefined ? '-' : String(round(perAsset, 1)),
          baseline: 'reference client: 0',
          ratio: undefined,
          met: perAsset === undefined ? undefined : perAsset <= 2,
        },
        {
          goal: `Small-photo first sync (${options.assets} x ${round(options.photoBytes / 1e6, 1)} MB)`,
          target: '>= 0.85x raw copy',
          figure: `${round(oursMs(small) / 1000, 1)} s`,
          baseline: `reference ${round(referenceMs(small) / 1000, 1)} s`,
          ratio: ratioOf(referenceMs(small), oursMs(small)),
          met: referenceMs(small) / oursMs(small) >= 0.85,
        },
        {
          goal: `Tiny-file first sync (${options.assets} x ${round(options.tinyBytes / 1000, 1)} kB)`,
          target: '>= 0.5x raw copy',
          figure: `${round(oursMs(tiny) / 1000, 1)} s`,
          baseline: `reference ${round(referenceMs(tiny) / 1000, 1)} s`,
          ratio: ratioOf(referenceMs(tiny), oursMs(tiny)),
          met: referenceMs(tiny) / oursMs(tiny) >= 0.5,
        },
        {
          goal: 'Detection: pages pipelined (first download before last page)',
          target: 'yes',
          figure:
            timeline.download.length === 0
              ? 'no downloads seen'
              : `first download at ${seconds(firstDownload)} s, last page at ${seconds(lastQuery)} s`,
          baseline: `reference: pipelined (${small.reference.pages} pages)`,
          ratio: undefined,
          met: firstDownload < lastQuery,
        },
        {
          goal: 'Work item serialized size (largest)',
          target: '<= 1 KB',
          figure: `${Math.max(0, ...items)} B (median ${median(items)} B, ${items.length} items)`,
          baseline: '-',
          ratio: ratioOf(Math.max(0, ...items), 1024),
          met: items.length > 0 && Math.max(...items) <= 1024,
        },
      );
      if (small.idle) {
        const idle = small.idle;
        const wallMs = median(idle.measured.map((r) => r.wallMs));
        // The sum of each process's own peak (an upper bound); the sampled sum beside it.
        const peakMb = median(idle.measured.map((r) => r.treeHighWaterBytes ?? 0)) / 1e6;
        const sampledMb = median(idle.measured.map((r) => r.peakTreeRssBytes ?? 0)) / 1e6;
        const processes = Math.max(...idle.measured.map((r) => r.processes.length));
        details['idle'] = {
          wallMs: idle.measured.map((r) => round(r.wallMs)),
          treeHighWaterMB: idle.measured.map((r) => round((r.treeHighWaterBytes ?? 0) / 1e6, 1)),
          sampledPeakMB: idle.measured.map((r) => round((r.peakTreeRssBytes ?? 0) / 1e6, 1)),
          processes: idle.measured[0]?.processes.map((p) => ({
            command: p.command,
            highWaterMB: round(p.highWaterBytes / 1e6, 1),
          })),
          countedRunWallMs: round(idle.sync.run.wallMs),
        };
        rows.push(
          {
            goal: 'Local idle run: requests to Apple for the library',
            target: '1',
            figure: String(idle.appleRequests - idle.sharedAlbumsListings),
            baseline: '-',
            ratio: undefined,
            met: idle.appleRequests - idle.sharedAlbumsListings === 1,
          },
          {
            goal: 'Local idle run: extra requests for Shared Albums (account owns and joined some)',
            target: '<= 1',
            figure: String(idle.sharedAlbumsListings),
            baseline: '-',
            ratio: undefined,
            met: idle.sharedAlbumsListings <= 1,
          },
          {
            goal: 'Local idle run: wall',
            target: '<= 2 s',
            figure: `${round(wallMs / 1000)} s (median of 3)`,
            baseline: `node -e 0: ${round(bare.wallMs / 1000)} s`,
            ratio: ratioOf(wallMs, bare.wallMs),
            met: wallMs <= 2000,
          },
          {
            goal: 'Local idle run: peak RSS, process tree',
            target: '<= 120 MB',
            figure: `${round(peakMb, 1)} MB (${processes} process${processes === 1 ? '' : 'es'}; sampled ${round(sampledMb, 1)} MB)`,
            baseline: `node -e 0: ${round((bare.maxRssMiB * MIB) / 1e6, 1)} MB`,
            ratio: ratioOf(peakMb, (bare.maxRssMiB * MIB) / 1e6),
            met: peakMb <= 120,
          },
        );
      }
      rows.push({
        goal: `Local first sync, ${options.assets} photos, vs icloud-photos-sync 22.9 s / icloudpd 42.8 s`,
        target: '< 22.9 s',
        figure: `${round(oursMs(small) / 1000, 1)} s`,
        baseline: `reference ${round(small.reference.ms / 1000, 1)} s with sign-in`,
        ratio: ratioOf(small.reference.ms, oursMs(small)),
        met: oursMs(small) < 22_900,
      });
    },
  );
  await attempt(rows, 'CPU and memory', ['handler CPU per GB', 'memory flat in file size'], async () => {
    const cpu = await handlerCpuAndMemory(options);
    const floor = cpu.rawCpuPerGb + cpu.hashCpuPerGb;
    details['cpuAndMemory'] = {
      rawCpuSecondsPerGb: round(cpu.rawCpuPerGb),
      handlerCpuSecondsPerGb: round(cpu.handlerCpuPerGb),
      // MD5 + SHA-256 of the raw upload's bytes, and the floor they make with the raw upload.
      hashCpuSecondsPerGb: round(cpu.hashCpuPerGb),
      rawPlusHashesCpuSecondsPerGb: round(floor),
      warmUpMiB: cpu.warmUpMiB,
      peakGrowthMiB: cpu.growth.map(mib),
    };
    const [growthSmall = 0, growthLarge = 0] = cpu.growth;
    rows.push(
      {
        goal: 'Handler CPU per GB',
        target: '<= 1.2x raw upload',
        figure: `${round(cpu.handlerCpuPerGb, 1)} CPU-s/GB`,
        baseline: `raw ${round(cpu.rawCpuPerGb, 1)} CPU-s/GB; raw + MD5 + SHA-256 ${round(floor, 1)} CPU-s/GB (handler ${ratioOf(cpu.handlerCpuPerGb, floor)}x of it)`,
        ratio: ratioOf(cpu.handlerCpuPerGb, cpu.rawCpuPerGb),
        met: cpu.handlerCpuPerGb <= 1.2 * cpu.rawCpuPerGb,
        ratioToIntegrityFloor: ratioOf(cpu.handlerCpuPerGb, floor),
      },
      {
        goal: 'Memory flat in file size (peak - before, 512 vs 128 MiB)',
        target: '<= 1.25x',
        figure: `${mib(growthLarge)} MiB`,
        baseline: `128 MiB file: ${mib(growthSmall)} MiB`,
        ratio: ratioOf(growthLarge, growthSmall),
        met: growthSmall > 0 && growthLarge <= 1.25 * growthSmall,
      },
    );
  });
  await attempt(rows, 'Lambda', ['Lambda bundles and import'], async () => {
    const lambda = await lambdaColdStart(options);
    details['lambda'] = lambda;
    for (const fn of lambda.functions) {
      rows.push(
        {
          goal: `Lambda bundle ${fn.name}`,
          target: '<= 0.6 MB',
          figure: `${round(fn.bytes / 1e6)} MB`,
          baseline: '-',
          ratio: ratioOf(fn.bytes, 0.6e6),
          met: fn.bytes <= 0.6e6,
        },
        {
          goal: `Lambda import ${fn.name}`,
          target: '<= 0.25 CPU-s',
          figure: `${round(fn.cost.cpuMs / 1000)} CPU-s`,
          baseline: `empty module ${round(lambda.empty.cpuMs / 1000, 3)} CPU-s`,
          ratio: ratioOf(fn.cost.cpuMs, lambda.empty.cpuMs),
          met: fn.cost.cpuMs <= 250,
        },
      );
    }
  });
  return { loadAverage, loadFactor: factor, rows, details };
}
