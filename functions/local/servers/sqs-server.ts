/**
 * Local SQS: local-aws-sqs in-process. It keeps queues in memory only: messages not yet
 * processed when the process stops are gone (docs/state.md, "local runtime").
 *
 * Its known bug: with `VisibilityTimeout <= WaitTimeSeconds` one receive returns the same
 * message several times. Local pollers keep the visibility timeout above the wait time.
 * Its other: ChangeMessageVisibility raises a message's receive count as a receive does, so a
 * failed delivery put back early counts twice against the dead-letter limit (see below).
 */
import { closeServer } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

/**
 * Receive-count steps one failed local delivery takes: its receive and the visibility change
 * that puts it back (`local/sqs-event-source.ts` does both for every failure). The local queue's
 * limit is scaled by it, and the count handed to the handler divided by it, so a message gets
 * the same five tries as in AWS.
 */
export const LOCAL_RECEIVE_STEPS_PER_DELIVERY = 2;

/** The count SQS in AWS would report for a local message that shows `rawCount`. */
export function deliveriesOf(rawCount: number): number {
  return Math.ceil(rawCount / LOCAL_RECEIVE_STEPS_PER_DELIVERY);
}

export async function startSqsServer(): Promise<LocalServer> {
  // Imported here: the receive-count helpers above are used where no SQS server runs.
  const { createSqsServer } = await import('local-aws-sqs');
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
