/**
 * Runs a command to its end while sampling the resident memory of its whole process tree (the
 * process and every descendant, from /proc, every 50 ms): what a person running the CLI pays,
 * local servers in child processes included. Linux only; elsewhere the peak is undefined.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { killWithParent } from './kill-with-parent.ts';

const PAGE_BYTES = 4096;
const INTERVAL_MS = 50;

export interface TreeRun {
  readonly code: number | null;
  readonly wallMs: number;
  /** Highest sum of RSS over the tree seen in a sample; undefined without /proc. */
  readonly peakTreeRssBytes: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** RSS of `root` and all its descendants, in bytes. */
function treeRss(root: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces), from "state" on.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      rss.set(pid, Number(fields[21]) * PAGE_BYTES);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    total += rss.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

export function runProcessTree(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly timeoutMs: number },
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
  const sample = () => {
    if (child.pid === undefined) return;
    const now = treeRss(child.pid);
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  };
  const sampler = setInterval(sample, INTERVAL_MS);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
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
    child.once('close', (code) =>
      resolve({ code, wallMs, peakTreeRssBytes: peak, stdout, stderr, timedOut }),
    );
  });
}
