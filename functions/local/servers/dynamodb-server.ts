/**
 * Local DynamoDB: dynalite, in memory or on LevelDB under `directory`, on a thread of its own
 * (`dynamodb-thread.mjs`). On the caller's thread it took a third of a first sync's CPU (request
 * parsing, expression checks, LevelDB reads and writes for every item), in turn with the SDK
 * work that feeds it; on its own thread the two overlap on a second core. It has no
 * transactions, TTL API or PartiQL, which is why the state store uses none of them.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { LocalServer } from './s3-server.ts';

/** The same file from source and from dist/ (scripts/build-cli.mjs builds it as an entry). */
const THREAD_ENTRY = new URL('./dynamodb-thread.mjs', import.meta.url);
/** How long a stop may take before the thread is ended without closing the database. */
const STOP_LIMIT_MS = 10_000;

type ThreadMessage = { readonly port: number } | { readonly error: string };

export async function startDynamoDbServer(options: { directory?: string } = {}): Promise<LocalServer> {
  const thread = new Worker(THREAD_ENTRY, {
    workerData: { directory: options.directory },
    // Plain JavaScript needs none of this process's flags (a loader, `--input-type` of an `--eval`).
    execArgv: [],
  });
  const exited = once(thread, 'exit').then(() => undefined);
  const first = await Promise.race([
    once(thread, 'message').then(([message]) => message as ThreadMessage),
    once(thread, 'error').then(([error]) => ({ error: (error as Error).message })),
    exited.then(() => ({ error: 'the local DynamoDB thread ended while starting' })),
  ]);
  if ('error' in first) {
    await thread.terminate();
    throw new Error(first.error);
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${first.port}`,
    stop() {
      stopping ??= (async () => {
        const failed = new Promise<string>((resolve) =>
          thread.on('message', (message: ThreadMessage) => {
            if ('error' in message) resolve(message.error);
          }),
        );
        thread.postMessage('stop');
        const timer = setTimeout(() => void thread.terminate(), STOP_LIMIT_MS);
        const error = await Promise.race([failed, exited.then(() => undefined)]);
        await exited;
        clearTimeout(timer);
        if (error !== undefined) throw new Error(`stopping the local DynamoDB failed: ${error}`);
      })();
      return stopping;
    },
  };
}
