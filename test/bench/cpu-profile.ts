/**
 * Section 5, where the archive's time goes: the raw upload (`http.get` -> lib-storage) and the
 * download handler, each run once into s3rver and once into an S3 that stores nothing
 * (support/null-s3.ts), in a worker process under `node --cpu-prof`. For each: the rate, the
 * worker's CPU seconds per GB, and the functions with the most self time in its profile. If the
 * rate does not move when s3rver is replaced, s3rver is not the limit; the profile says what is.
 *
 * Each worker first sends one 16 MiB video through its path, uncounted, and the summary keeps
 * only the samples of the measured window (download-worker.ts, "Warm-up"): the profile shows the
 * steady state the CPU per GB figure measures, not the process's start-up.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsTarget, DownloadJob, DownloadJobResult, UploadShape } from './download-worker.ts';
import { openArchiveFixture } from './support/archive-fixture.ts';
import { runChildJob } from './support/child-job.ts';
import { startNullS3 } from './support/null-s3.ts';
import { mbPerSecond, mib } from './support/units.ts';

const WORKER = fileURLToPath(new URL('./download-worker.ts', import.meta.url));

export interface ProfiledRun {
  readonly path: 'raw upload' | 'handler';
  readonly sink: 's3rver' | 'null S3';
  readonly mib: number;
  readonly mbPerSecond: number;
  readonly cpuSecondsPerGb: number;
  /** Share of sampled time per bucket: `(garbage collector)`, `node:` internals, a package, our code. */
  readonly byOwner: readonly { readonly owner: string; readonly percent: number }[];
  /** The functions with the most self time. */
  readonly top: readonly { readonly fn: string; readonly percent: number }[];
  readonly error?: string;
}

interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  /** Microseconds on the monotonic clock; each sample's time is this plus its deltas so far. */
  readonly startTime?: number;
}

/** Who a profile frame belongs to: a package, Node's internals, our code, or V8's own buckets. */
function ownerOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  if (url.includes('/functions/')) return 'functions/';
  if (url.includes('/test/')) return 'test/ (bench)';
  return url;
}

/**
 * Self time by function and by owner, as percentages of the profile's sampled time (idle
 * excluded); with `window` (monotonic microseconds), of the samples taken inside it only.
 */
export function summariseProfile(
  profile: CpuProfile,
  topN = 8,
  window?: { readonly start: number; readonly end: number },
) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFn = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  let at = profile.startTime ?? 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window !== undefined && (at < window.start || at > window.end)) return;
    if (frame === undefined || frame.functionName === '(idle)') return;
    total += dt;
    const fn =
      `${frame.functionName || '(anonymous)'} ${frame.url ? `${basename(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
    const owner = ownerOf(frame.url, frame.functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + dt);
  });
  const percent = (t: number) => (total > 0 ? Math.round((t / total) * 1000) / 10 : 0);
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    top: sorted(byFn)
      .slice(0, topN)
      .map(([fn, t]) => ({ fn, percent: percent(t) })),
    byOwner: sorted(byOwner)
      .slice(0, topN)
      .map(([owner, t]) => ({ owner, percent: percent(t) })),
  };
}

/**
 * The main thread's profile among those `--cpu-prof` wrote: tsx's module loader runs in a thread
 * of its own and gets a file too (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`), and the
 * directory's order is the file system's.
 */
export function mainThreadProfile(files: readonly string[]): string | undefined {
  const profiles = files.filter((f) => f.endsWith('.cpuprofile'));
  return profiles.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? profiles[0];
}

export async function measureCpuProfiles(options: {
  readonly files: number;
  readonly fileBytes: number;
  readonly upload: UploadShape;
  readonly log: (line: string) => void;
}): Promise<ProfiledRun[]> {
  const fixture = await openArchiveFixture({ seed: 15 });
  const sink = await startNullS3();
  const runs: ProfiledRun[] = [];
  try {
    const targets: readonly [ProfiledRun['sink'], AwsTarget][] = [
      ['s3rver', fixture.aws],
      ['null S3', { ...fixture.aws, endpoints: { ...fixture.aws.endpoints, s3: sink.endpoint } }],
    ];
    for (const path of ['raw upload', 'handler'] as const) {
      for (const [sinkName, aws] of targets) {
        options.log(`profile: ${path} into ${sinkName}, ${options.files} x ${mib(options.fileBytes)} MiB`);
        const warmUp = await fixture.addVideos(1, 16 * 1024 * 1024);
        const videos = await fixture.addVideos(options.files, options.fileBytes);
        const job: DownloadJob =
          path === 'raw upload'
            ? {
                mode: 'raw-s3',
                urls: fixture.originalUrls(videos.assets),
                streams: 1,
                aws,
                upload: options.upload,
                warmUpUrls: fixture.originalUrls(warmUp.assets),
              }
            : {
                mode: 'pipeline',
                controlUrl: fixture.sim.controlUrl,
                sessionFile: fixture.sessionFile,
                aws,
                upload: options.upload,
                messages: fixture.messages(videos.assets, videos.assets.length),
                warmUpMessages: fixture.messages(warmUp.assets, 1),
              };
        const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-profile-'));
        try {
          const result = await runChildJob<DownloadJobResult>(
            WORKER,
            job,
            60_000 + ((warmUp.bytes + videos.bytes) / 5e6) * 1000,
            ['--cpu-prof', '--cpu-prof-dir', dir],
          );
          const file = mainThreadProfile(await readdir(dir));
          const summary = file
            ? summariseProfile(
                JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile,
                8,
                result.windowUs,
              )
            : { top: [], byOwner: [] };
          runs.push({
            path,
            sink: sinkName,
            mib: mib(result.bytes),
            mbPerSecond: mbPerSecond(result.bytes, result.ms),
            cpuSecondsPerGb: Math.round((result.cpuMs / 1000 / (result.bytes / 1e9)) * 10) / 10,
            ...summary,
            ...((result.failed ?? 0) > 0 ? { error: `${result.failed} failed` } : {}),
          });
        } catch (error) {
          runs.push({
            path,
            sink: sinkName,
            mib: 0,
            mbPerSecond: 0,
            cpuSecondsPerGb: 0,
            top: [],
            byOwner: [],
            error: error instanceof Error ? error.message.split('\n')[0] : String(error),
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await sink.stop();
    await fixture.stop();
  }
  return runs;
}
