/**
 * Local SQS: local-aws-sqs in-process. It keeps queues in memory only: messages not yet
 * processed when the process stops are gone (docs/state.md, "local runtime").
 *
 * Its known bug: with `VisibilityTimeout <= WaitTimeSeconds` one receive returns the same
 * message several times. Local pollers keep the visibility timeout above the wait time.
 */
import { createSqsServer } from 'local-aws-sqs';
import { closeServer } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

export async function startSqsServer(): Promise<LocalServer> {
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('local-aws-sqs did not bind a TCP port');
  return { endpoint: `http://127.0.0.1:${address.port}`, stop: () => closeServer(server) };
}
