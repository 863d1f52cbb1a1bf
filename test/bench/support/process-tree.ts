/**
 * Runs a command to its end while measuring the resident memory of its whole process tree (the
 * process and every descendant, from /proc): what a person running the CLI pays, local servers in
 * child processes included. Linux only; elsewhere the figures are undefined.
 *
 * Two figures, because sampling alone can miss a peak:
 * - `peakTreeRssBytes`, the highest sum of current RSS seen in one sample (every 25 ms): a lower
 *   bound of the true peak (a short spike between two samples is not seen);
 * - `treeHighWaterBytes`, the sum over every process of its own high-water mark (`VmHWM`, which the
 *   kernel keeps between samples), the command's own taken from the kernel's figure at its exit
 *   (`/usr/bin/time`'s maximum resident size, when it is installed): an upper bound, since the
 *   processes need not have peaked at the same moment. For a single process it is its exact peak.
 * A process that starts and ends between two samples is in neither; the local runtime's servers
 * live as long as the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killWithParent } from './kill-with-parent.ts';

const INTERVAL_MS = 25;
const TIME = '/usr/bin/time';

export interface TreeProcess {
  readonly pid: number;
  /** The command line, shortened. */
  readonly command: string;
  /** Its high-water mark, as last read (the command's own: the kernel's at its exit, when known). */
  readonly highWaterBytes: number;
}

export interface TreeRun {
  readonly code: number | null;
  readonly wallMs: number;
  /** Highest sum of RSS over the tree seen in a sample (a lower bound of the peak); undefined without /proc. */
  readonly peakTreeRssBytes: number | undefined;
  /** Sum of every process's own peak (an upper bound of the tree's peak); undefined without /proc. */
  readonly treeHighWaterBytes: number | undefined;
  /** Every process seen in the tree, the command first. */
  readonly processes: readonly TreeProcess[];
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Parent of every process now (pid → ppid), or undefined without /proc. */
function parents(): Map<number, number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const ppids = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces), from "state" on.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ppids.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ppids;
}

/** `root` and all its descendants. */
function descendants(root: number, ppids: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of ppids) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    if (!ppids.has(pid)) continue;
    found.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Current and peak RSS of one process, in bytes (`/proc/<pid>/status`). */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv
      .map((arg) => (arg.includes('/') ? (arg.split('/').at(-1) ?? arg) : arg))
      .join(' ')
      .slice(0, 120);
  } catch {
    return '?';
  }
}

export function runProcessTree(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly timeoutMs: number },
): Promise<TreeRun> {
  return existsSync(TIME)
    ? mkdtemp(join(tmpdir(), 'icloud-s3-bench-time-')).then(async (dir) => {
        const file = join(dir, 'maxrss');
        try {
          const run = await measure(TIME, ['-o', file, '-f', '%M', command, ...args], options, true);
          const kb = Number((await readFile(file, 'utf8').catch(() => '')).trim().split('\n').at(-1));
          return withKernelPeak(run, Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      })
    : measure(command, args, options, false);
}

/** The command's own high-water mark is the kernel's at its exit, when that is higher than the last read. */
function withKernelPeak(run: TreeRun, kernelBytes: number | undefined): TreeRun {
  const [first, ...rest] = run.processes;
  if (first === undefined || kernelBytes === undefined || kernelBytes <= first.highWaterBytes) return run;
  // /usr/bin/time reports the largest process it waited for, the command's children included:
  // never less than the command's own peak, so the sum stays an upper bound.
  const processes = [{ ...first, highWaterBytes: kernelBytes }, ...rest];
  return { ...run, processes, treeHighWaterBytes: processes.reduce((s, p) => s + p.highWaterBytes, 0) };
}

function measure(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly timeoutMs: number },
  underTime: boolean,
): Promise<TreeRun> {
  const started = performance.now();
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killWithParent(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let peak: number | undefined;
  const seen = new Map<number, { command: string; hwm: number }>();
  let tree: number[] = [];
  const sample = () => {
    if (child.pid === undefined) return;
    const ppids = parents();
    if (ppids === undefined) return;
    // Under /usr/bin/time the measured tree starts at its child: time's own 2 MB are not the CLI's.
    tree = descendants(child.pid, ppids).filter((pid) => !underTime || pid !== child.pid);
    let sum = 0;
    for (const pid of tree) {
      const memory = memoryOf(pid);
      if (memory === undefined) continue;
      sum += memory.rss;
      // Read again every time: a forked child shows its parent's command line until it execs.
      seen.set(pid, { command: commandOf(pid), hwm: Math.max(seen.get(pid)?.hwm ?? 0, memory.hwm) });
    }
    peak = Math.max(peak ?? 0, sum);
  };
  const sampler = setInterval(sample, INTERVAL_MS);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    // The whole tree: killing /usr/bin/time alone would leave the command running.
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    child.kill('SIGKILL');
  }, options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearInterval(sampler);
      clearTimeout(limit);
      reject(error);
    });
    let wallMs = 0;
    child.once('exit', () => {
      wallMs = performance.now() - started;
      clearInterval(sampler);
      clearTimeout(limit);
    });
    // 'close' comes after the output streams ended: all of stdout is in.
    child.once('close', (code) => {
      const processes = [...seen].map(([pid, p]) => ({ pid, command: p.command, highWaterBytes: p.hwm }));
      resolve({
        code,
        wallMs,
        peakTreeRssBytes: peak,
        treeHighWaterBytes:
          peak === undefined ? undefined : processes.reduce((s, p) => s + p.highWaterBytes, 0),
        processes,
        stdout,
        stderr,
        timedOut,
      });
    });
  });
}
