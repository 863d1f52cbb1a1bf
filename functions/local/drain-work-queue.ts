/**
 * Plays the download workers on this machine until the local work queue is empty: pollers that
 * invoke the same download handler as Lambda with SQS events (`sqs-event-source.ts`). Used by
 * `verify --repair` on a local archive, which enqueues its work like a detection run does.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { LocalAws, LocalSqs } from '#compose/local-aws-stack.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { createLambdaContext } from './lambda-context.ts';
import { pollOnce } from './sqs-event-source.ts';

/**
 * Messages in a local queue, in flight and delayed included: a message just sent (a restored
 * one) is not receivable for a tick locally, and a failed one waits out its retry delay.
 */
export async function countMessages(sqs: LocalSqs, queueUrl: string): Promise<number> {
  const output = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(output.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(output.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * Runs `concurrency` pollers until the work queue is empty (a failed message comes back after a
 * second and is retried until the redrive policy moves it to the dead-letter queue). Resolves
 * with the number of messages then in the dead-letter queue.
 */
export async function drainWorkQueue(
  stack: LocalAws,
  downloads: DownloadBatchDeps,
  concurrency = 4,
): Promise<{ readonly deadLetters: number }> {
  // Nothing was ever enqueued: the in-memory queues are empty, and stay unstarted.
  if (!stack.sqsStarted()) return { deadLetters: 0 };
  const sqs = await stack.sqs();
  await pollUntilEmpty(sqs, createDownloadHandler(downloads), concurrency);
  return { deadLetters: await countMessages(sqs, sqs.queues.deadLetterQueueUrl) };
}

/** How long a stopped drain waits for the messages its last batches failed to be receivable again. */
const SETTLE_AFTER_STOP_MS = 10_000;

/**
 * Messages received and not yet deleted (in a handler, or waiting out their retry delay); a stop
 * waits for them, so that what is left is all receivable (parked-work.ts parks what it receives).
 */
async function waitForInFlight(sqs: LocalSqs): Promise<void> {
  const until = Date.now() + SETTLE_AFTER_STOP_MS;
  while (Date.now() < until) {
    const output = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: sqs.queues.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** How long an idle poller waits before it looks again while messages are in flight or delayed. */
const IDLE_WAIT_MS = 250;

/**
 * Runs `concurrency` pollers with `handler` until the work queue holds no message at all, or,
 * once `stopped()` says so, until the batches in flight have ended (their failed messages back
 * on the queue): no poller takes a new batch after the stop.
 */
export async function pollUntilEmpty(
  sqs: LocalSqs,
  handler: ReturnType<typeof createDownloadHandler>,
  concurrency: number,
  stopped: () => boolean = () => false,
  idleWaitMs = IDLE_WAIT_MS,
): Promise<void> {
  // Pollers waiting while others' batches run: woken as soon as any batch ends, since that is
  // when the queue may have become empty (the run's end) or a failed message was put back.
  const idle = new Set<() => void>();
  const batchEnded = () => {
    for (const wake of [...idle]) wake();
  };
  const idleWait = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        idle.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, idleWaitMs);
      idle.add(wake);
    });
  const worker = async () => {
    for (;;) {
      if (stopped()) return;
      const outcome = await pollOnce({
        sqs: sqs.client,
        queueUrl: sqs.queues.queueUrl,
        queueArn: sqs.queues.queueArn,
        handler,
        context: () => createLambdaContext('download-assets', 15 * 60 * 1000),
        batchSize: 5,
        visibilityTimeoutSeconds: 900,
        retryDelaySeconds: 1,
      });
      if (outcome !== undefined) {
        batchEnded();
        continue;
      }
      // Empty now; failed messages reappear after their retry delay, others' batches may end.
      if ((await countMessages(sqs, sqs.queues.queueUrl)) === 0) return;
      await idleWait();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (stopped()) await waitForInFlight(sqs);
}
