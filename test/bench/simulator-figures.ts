/**
 * The simulator's own figures (section 4): start-up time and RSS by library size, each in a fresh
 * child process, and the figures of the simulator benches `sim-cdn.ts` (CDN throughput and server
 * RSS over loopback) and `sim-load.ts` (requests per second), run as they are and read from their
 * output.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import { startSimulator } from '#simulator/src/index.ts';
import { isChildJob, runChildJob, scaledLimitMs, serveChildJob } from './support/child-job.ts';
import { killWithParent } from './support/kill-with-parent.ts';
import { mib } from './support/units.ts';

const SELF = fileURLToPath(import.meta.url);

export interface StartupFigure {
  readonly assets: number;
  /** `startSimulator` until it listens (library generated, indexes not yet built). */
  readonly startMs: number;
  /** The first `records/query` page of 200 records (builds the sorted index on first use). */
  readonly firstQueryMs: number;
  /** RSS before starting, after the first query (after a GC), and the process high-water mark. */
  readonly rssIdleMiB: number;
  readonly rssReadyMiB: number;
  readonly maxRssMiB: number;
}

export interface CdnFigures {
  readonly servedMiB: number;
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly serverRssIdleMiB: number;
  /** After a first (warm-up) 2 GiB served. */
  readonly serverRssAfterFirstMiB: number;
  /** After a second 2 GiB. */
  readonly serverRssAfterMiB: number;
}

export interface LoadFigure {
  readonly endpoint: string;
  readonly requests: number;
  readonly connections: number;
  readonly perSecond: number;
}

export interface SimulatorFigures {
  readonly startup: readonly StartupFigure[];
  readonly cdn?: CdnFigures;
  readonly load: readonly LoadFigure[];
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** In the child: starts a simulator of `assets` and measures it. */
async function measureStartup(job: { assets: number }): Promise<StartupFigure> {
  gc();
  const rssIdle = process.memoryUsage.rss();
  const started = performance.now();
  const sim = await startSimulator({ port: 0, assets: job.assets, mediaScale: 0.01 });
  const startMs = performance.now() - started;
  try {
    const session = (await (
      await fetch(`${sim.controlUrl}/session`, { method: 'POST', body: '{}' })
    ).json()) as {
      cookie: string;
      ckdatabasewsUrl: string;
    };
    const url = `${toSimulatorUrl(session.ckdatabasewsUrl, sim.baseUrl).replace(/\/$/, '')}/database/1/com.apple.photos.cloud/production/private/records/query`;
    const queried = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { Cookie: session.cookie, 'Content-Type': 'text/plain' },
      body: JSON.stringify({
        query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
        zoneID: { zoneName: 'PrimarySync' },
        resultsLimit: 200,
      }),
    });
    const page = (await res.json()) as { records?: unknown[] };
    const firstQueryMs = performance.now() - queried;
    if (res.status !== 200 || (job.assets > 100 && (page.records?.length ?? 0) === 0))
      throw new Error(`records/query answered ${res.status} with ${page.records?.length ?? 0} records`);
    gc();
    return {
      assets: job.assets,
      startMs: Math.round(startMs),
      firstQueryMs: Math.round(firstQueryMs),
      rssIdleMiB: mib(rssIdle),
      rssReadyMiB: mib(process.memoryUsage.rss()),
      maxRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    };
  } finally {
    await sim.stop();
  }
}

/** Runs one of the simulator benches and returns its stdout; `baseTimeoutMs` is scaled by the load. */
function runBench(file: string, args: readonly string[], baseTimeoutMs: number): Promise<string> {
  const timeoutMs = scaledLimitMs(baseTimeoutMs);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    killWithParent(child);
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${file} exited with ${code}${code === null ? ` (killed after ${Math.round(timeoutMs / 1000)} s)` : ''}`,
          ),
        );
    });
  });
}

function parseCdn(output: string): CdnFigures | undefined {
  const served = /served (\d+) MiB in ([\d.]+) s: (\d+) MB\/s/.exec(output);
  const rss =
    /server RSS idle ([\d.]+) MiB; after a first 2 GiB ([\d.]+) MiB; after another \d+ MiB ([\d.]+) MiB/.exec(
      output,
    );
  if (served === null || rss === null) return undefined;
  return {
    servedMiB: Number(served[1]),
    seconds: Number(served[2]),
    mbPerSecond: Number(served[3]),
    serverRssIdleMiB: Number(rss[1]),
    serverRssAfterFirstMiB: Number(rss[2]),
    serverRssAfterMiB: Number(rss[3]),
  };
}

function parseLoad(output: string): LoadFigure[] {
  return [...output.matchAll(/^(.+?): (\d+) requests, (\d+) connections, (\d+) req\/s/gm)].map((m) => ({
    endpoint: m[1] ?? '',
    requests: Number(m[2]),
    connections: Number(m[3]),
    perSecond: Number(m[4]),
  }));
}

export async function measureSimulator(options: {
  readonly sizes: readonly number[];
  readonly log: (line: string) => void;
}): Promise<SimulatorFigures> {
  const startup: StartupFigure[] = [];
  for (const assets of options.sizes) {
    options.log(`simulator: start-up with ${assets} assets`);
    startup.push(await runChildJob<StartupFigure>(SELF, { assets }, 120_000, ['--expose-gc']));
  }
  options.log('simulator: sim-cdn.ts (CDN throughput, server RSS)');
  const cdn = parseCdn(await runBench('./sim-cdn.ts', [], 240_000));
  options.log('simulator: sim-load.ts 5000 16 (requests per second)');
  const load = parseLoad(await runBench('./sim-load.ts', ['5000', '16'], 120_000));
  return { startup, ...(cdn === undefined ? {} : { cdn }), load };
}

if (isChildJob()) serveChildJob(measureStartup);
