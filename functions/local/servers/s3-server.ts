/**
 * Local S3: s3rver in a child process (see `s3rver-process.ts` for why), storing objects as
 * plain files under `directory` (the local runtime's data dir, or a temporary one).
 */
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRepair, type LocalS3Repair, S3RVER_NO_REPAIR } from './repair-local-s3.ts';

export interface LocalServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface LocalS3Server extends LocalServer {
  /** The s3rver child's process id. */
  readonly pid: number | undefined;
  /** What the start-up check changed to make the data directory consistent (repair-local-s3.ts). */
  readonly repairs: readonly LocalS3Repair[];
}

/**
 * Run from source (tsx), the child is the .ts file beside this one, loaded through tsx; in the
 * compiled CLI this module is a chunk in dist/ and the child its own entry, dist/s3rver-process.mjs
 * (bin/build-cli.mjs), plain JavaScript.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const CHILD_ENTRY = fileURLToPath(
  new URL(FROM_SOURCE ? './s3rver-process.ts' : './s3rver-process.mjs', import.meta.url),
);
/**
 * How long the child may stay silent while starting. It says "still starting" every second
 * (`s3rver-process.ts`), so a slow start (a loaded machine, a large archive to check) waits as
 * long as it keeps going; only a child that stops answering fails. Generous because the first
 * sign of life comes only after Node and tsx have loaded s3rver, which a busy machine once took
 * more than the former fixed 20 s to do.
 */
export const DEFAULT_START_SILENCE_MS = 120_000;

/** What `startS3Server` needs of its child process while waiting for it. */
interface StartingChild {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit', listener: (code: number | null) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Resolves with the child's `{ port, repairs }` once it listens. Every `{ starting: true }` from
 * the child restarts the silence limit; the child exiting, or `silenceLimitMs` without a word,
 * rejects with a message that names the folder and what to do.
 */
export function waitForS3rverStart(
  child: StartingChild,
  options: { readonly directory: string; readonly silenceLimitMs?: number },
): Promise<{ port: number; repairs: LocalS3Repair[] }> {
  const limit = options.silenceLimitMs ?? DEFAULT_START_SILENCE_MS;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `the local S3 server for ${options.directory} gave no sign of life for ${limit / 1000} s while starting; ` +
              'the machine may be too busy: run the command again when it is quieter.',
          ),
        );
      }, limit);
    };
    function onMessage(message: unknown) {
      const { port, repairs, starting } = message as {
        port?: unknown;
        repairs?: unknown;
        starting?: unknown;
      };
      if (starting === true) return arm();
      finish();
      if (typeof port === 'number' && Array.isArray(repairs))
        resolve({ port, repairs: repairs as LocalS3Repair[] });
      else reject(new Error('s3rver sent an unexpected start message'));
    }
    child.on('message', onMessage);
    child.once('exit', (code) => {
      finish();
      reject(new Error(`s3rver exited with code ${code} before listening`));
    });
    arm();
  });
}

/**
 * Threads in the s3rver child's libuv pool (libuv's default is 4). Every object write is fsynced
 * three times (object, metadata, md5: `atomic-s3rver-store.ts`), each fsync holds a pool thread
 * for a millisecond or more, and every other file operation of the child waits behind them: with
 * four PUTs at once the pool was full of fsyncs. 100 PUTs of 1.6 MB, four at once: 1.5-3.1 s
 * with 4 threads, 0.9-1.6 s with 16 (docs/benchmarks.md §0). Idle threads cost next to nothing.
 */
export const S3RVER_THREAD_POOL = 16;

/** The child's environment: the parent's, with the larger thread pool unless one is set. */
export function s3rverChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { UV_THREADPOOL_SIZE: String(S3RVER_THREAD_POOL), ...env };
}

/** tsx's ESM loader, as a URL the child's `--import` can take whatever its working directory. */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  return new URL(`file://${require.resolve('tsx')}`).href;
}

/**
 * Starts s3rver on 127.0.0.1 with an ephemeral port. Without `directory`, a temporary one is
 * removed on stop. With `bucket`, that bucket exists (made if missing) before the child reports
 * listening: the caller needs no HeadBucket and CreateBucket round trips before its first write.
 * Each object the start-up check had to drop is reported on stderr by key. With `repair: false`
 * (`local serve`, which only reads and may run beside a `sync` writing the same folder) the
 * start-up check is skipped: it would remove that sync's writes in progress.
 */
export async function startS3Server(
  options: { directory?: string; bucket?: string; repair?: boolean } = {},
): Promise<LocalS3Server> {
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'icloud-s3-s3rver-')));
  await mkdir(directory, { recursive: true });
  const child = fork(CHILD_ENTRY, options.bucket === undefined ? [directory] : [directory, options.bucket], {
    execArgv: FROM_SOURCE
      ? ['--openssl-legacy-provider', '--import', tsxLoader()]
      : ['--openssl-legacy-provider'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...s3rverChildEnv(process.env),
      ...(options.repair === false && { [S3RVER_NO_REPAIR]: '1' }),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const { port, repairs } = await waitForS3rverStart(child, { directory }).catch(async (error: unknown) => {
    child.kill();
    await exited;
    throw error;
  });

  for (const repair of repairs) {
    const line = describeRepair(repair);
    if (line !== undefined) process.stderr.write(`icloud-s3: ${line}\n`);
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid,
    repairs,
    async stop() {
      if (child.exitCode === null && child.connected) child.send('stop');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}
