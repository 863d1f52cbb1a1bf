/**
 * The simulator in its own process (`simulator/cli.ts`), as Apple is on another machine: the
 * pipeline under measurement does not share its event loop or its CPU time with the fake iCloud.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { scaledLimitMs } from './child-job.ts';
import { killWithParent } from './kill-with-parent.ts';

export interface SimulatorProcessOptions {
  readonly assets: number;
  readonly seed: number;
  readonly mediaScale: number;
}

export interface SimulatorProcess {
  readonly controlUrl: string;
  readonly baseUrl: string;
  readonly appleId: string;
  readonly password: string;
  readonly pid: number;
  /** Milliseconds from spawn to the first line (process start, module load, library generation). */
  readonly readyMs: number;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../../simulator/cli.ts', import.meta.url));
/** On an idle machine; scaled by the load like every child's limit. */
const READY_TIMEOUT_MS = 120_000;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error('the simulator did not start in time')),
      scaledLimitMs(READY_TIMEOUT_MS),
    );
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited with ${code} before it was ready`));
    });
  });
}

/** Starts the simulator CLI on a free loopback port and waits for its ready line. */
export async function startSimulatorProcess(options: SimulatorProcessOptions): Promise<SimulatorProcess> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      '--port',
      '0',
      '--seed',
      String(options.seed),
      '--assets',
      String(options.assets),
      '--media-scale',
      String(options.mediaScale),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  killWithParent(child);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const ready = JSON.parse(await firstLine(child)) as {
      controlUrl: string;
      baseUrl: string;
      appleId: string;
      password: string;
    };
    child.stdout?.resume();
    return {
      controlUrl: ready.controlUrl,
      baseUrl: ready.baseUrl,
      appleId: ready.appleId,
      password: ready.password,
      pid: child.pid ?? 0,
      readyMs: performance.now() - started,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
