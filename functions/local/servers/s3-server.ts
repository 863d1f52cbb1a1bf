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
import { describeRepair, type LocalS3Repair } from './repair-local-s3.ts';

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

const CHILD_ENTRY = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** tsx's ESM loader, as a URL the child's `--import` can take whatever its working directory. */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  return new URL(`file://${require.resolve('tsx')}`).href;
}

/**
 * Starts s3rver on 127.0.0.1 with an ephemeral port. Without `directory`, a temporary one is
 * removed on stop. Each object the start-up check had to drop is reported on stderr by key.
 */
export async function startS3Server(options: { directory?: string } = {}): Promise<LocalS3Server> {
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'icloud-s3-s3rver-')));
  await mkdir(directory, { recursive: true });
  const child = fork(CHILD_ENTRY, [directory], {
    execArgv: ['--openssl-legacy-provider', '--import', tsxLoader()],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const { port, repairs } = await new Promise<{ port: number; repairs: LocalS3Repair[] }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('s3rver did not start in time')), START_TIMEOUT_MS);
      child.once('message', (message) => {
        clearTimeout(timer);
        const { port: value, repairs: done } = message as { port?: unknown; repairs?: unknown };
        if (typeof value === 'number' && Array.isArray(done))
          resolve({ port: value, repairs: done as LocalS3Repair[] });
        else reject(new Error('s3rver sent an unexpected start message'));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited with code ${code} before listening`));
      });
    },
  ).catch(async (error: unknown) => {
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
