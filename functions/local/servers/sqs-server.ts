/**
 * Local SQS: local-aws-sqs in-process. It keeps queues in memory only: messages not yet
 * processed when the process stops are gone (docs/state.md, "local runtime").
 *
 * Its known bug: with `VisibilityTimeout <= WaitTimeSeconds` one receive returns the same
 * message several times. Local pollers keep the visibility timeout above the wait time.
 * Its other: ChangeMessageVisibility raises a message's receive count as a receive does, so a
 * failed delivery put back early counts twice against the dead-letter limit (see below).
 * And its short poll waits: a receive that finds fewer messages than asked for (none included)
 * answers only after 40 ms, where SQS answers a `WaitTimeSeconds: 0` at once with what it has
 * (`answerShortPollsAtOnce`). And it stores any body, where SQS refuses one with a character
 * outside its allowed set (`refuseInvalidBodies`).
 */
import { createServer } from 'node:http';
import { closeServer, listenOnLoopback } from './listen.ts';
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

/** What the short poll uses of a local-aws-sqs queue (its class is not exported). */
interface LocalAwsSqsQueue {
  readonly FifoQueue: boolean;
  readonly ReceiveMessageWaitTimeSeconds: number;
  receive(input: {
    VisibilityTimeout?: unknown;
    WaitTimeSeconds?: unknown;
    MaxNumberOfMessages?: unknown;
  }): Promise<unknown[]>;
  getAttributes(names: string[]): Record<string, string>;
}

const shortPollsAnswered = new WeakSet<object>();

/**
 * Makes `queue` answer a short poll at once: with nothing when nothing is receivable, else by
 * asking local-aws-sqs for no more than it holds for the taking, which it hands out on its first
 * look (10 ms) instead of waiting out its 40 ms for the rest. It still takes the messages itself,
 * so their visibility, receive counts and redrive stay its own. Delayed messages count as for
 * the taking: one just sent is "delayed" until local-aws-sqs's next timer tick, and a receive
 * right after its send still gets it (a longer delay, which nothing here uses, waits the 40 ms as
 * before). Long polls and FIFO queues (message groups) are left to local-aws-sqs.
 */
export function answerShortPollsAtOnce(queue: LocalAwsSqsQueue): void {
  if (shortPollsAnswered.has(queue) || queue.FifoQueue) return;
  shortPollsAnswered.add(queue);
  const receive = queue.receive.bind(queue);
  queue.receive = async (input) => {
    if (Number(input.WaitTimeSeconds ?? queue.ReceiveMessageWaitTimeSeconds) !== 0) return receive(input);
    const counts = queue.getAttributes([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
    // "Messages" counts every message not delayed, received ones included; "not visible" the
    // received ones (a delayed message is never one of them).
    const forTheTaking =
      Number(counts.ApproximateNumberOfMessages) -
      Number(counts.ApproximateNumberOfMessagesNotVisible) +
      Number(counts.ApproximateNumberOfMessagesDelayed);
    if (!(forTheTaking > 0)) return [];
    const asked = Number(input.MaxNumberOfMessages ?? 1);
    return receive({ ...input, MaxNumberOfMessages: Math.min(asked, forTheTaking) });
  };
}

/** What a queue's messages go through on a send (local-aws-sqs's `setRecord`). */
interface LocalAwsSqsRecords {
  setRecord(input: { MessageBody?: unknown }, ...rest: unknown[]): unknown;
}

/** A character SQS refuses in a body: its allowed set is the W3C XML Char set. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const refusingBodies = new WeakSet<object>();

/**
 * Makes `queue` refuse a body with a character SQS does not accept, as SQS does:
 * InvalidMessageContents (400, the sender's fault) for a SendMessage, a failed entry with that
 * code in a SendMessageBatch. local-aws-sqs stores any body. `SqsError` is its error class (not
 * exported), which it answers with that code, status and body.
 */
export function refuseInvalidBodies(queue: LocalAwsSqsRecords, SqsError: SqsErrorClass): void {
  if (refusingBodies.has(queue)) return;
  refusingBodies.add(queue);
  const setRecord = queue.setRecord.bind(queue);
  queue.setRecord = (input, ...rest) => {
    const body = typeof input.MessageBody === 'string' ? input.MessageBody : '';
    const found = NOT_XML_CHAR.exec(body)?.[0];
    if (found !== undefined) {
      const hex = (found.codePointAt(0) ?? 0).toString(16).toUpperCase();
      throw new SqsError({
        Code: 'InvalidMessageContents',
        Type: 'com.amazonaws.sqs#InvalidMessageContents',
        Message: `Invalid binary character '#x${hex}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
        SenderFault: true,
      });
    }
    return setRecord(input, ...rest);
  };
}

type SqsErrorClass = new (fields: {
  Code: string;
  Type: string;
  Message: string;
  SenderFault: boolean;
}) => Error;

/** local-aws-sqs's error class, taken from an error it throws (an unreadable listing token). */
function sqsErrorClass(service: { listQueues(input: { token: string }): unknown }): SqsErrorClass {
  try {
    service.listQueues({ token: '!' });
  } catch (error) {
    // It throws an InvalidParameterValueException, a direct subclass of its SqsError.
    return Object.getPrototypeOf(Object.getPrototypeOf(error)).constructor as SqsErrorClass;
  }
  throw new Error('local-aws-sqs accepted an unreadable listing token');
}

export async function startSqsServer(): Promise<LocalServer> {
  // Imported here: the receive-count helpers above are used where no SQS server runs.
  const { createRequestHandler } = await import('local-aws-sqs');
  const { service, requestHandler } = createRequestHandler({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  const SqsError = sqsErrorClass(service);
  const server = createServer((request, response) => {
    // Queues come and go with requests: each is set up before the first request that can use it.
    for (const queue of service.Queues) {
      answerShortPollsAtOnce(queue as unknown as LocalAwsSqsQueue);
      refuseInvalidBodies(queue as unknown as LocalAwsSqsRecords, SqsError);
    }
    void requestHandler(request, response);
  });
  // Queue URLs carry the port (local-aws-sqs's own server sets it the same way).
  service.PORT = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${service.PORT}`, stop: () => closeServer(server) };
}
