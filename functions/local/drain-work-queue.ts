/**
 * Plays the download workers on this machine until the local work queue is empty: pollers that
 * invoke the same download handler as Lambda with SQS events (`sqs-event-source.ts`). A local sync
 * runs them while detection still enqueues (`WorkArrivals`), as Lambda's workers start on the
 * first page's work; `verify --repair` on a local archive runs them once its work is queued.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { LocalAws, LocalSqs } from '#compose/local-aws-stack.ts';
import { ItemSlots } from '#domain/archive/item-slots.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { signal } from '#shared/signal.ts';
import { createLambdaContext } from './lambda-context.ts';
import { pollOnce } from './sqs-event-source.ts';
import { WorkArrivals } from './work-arrivals.ts';

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
  // `concurrency` downloads at once in all, as `sync --concurrency` (each batch would run 8).
  const handler = createDownloadHandler({ ...downloads, itemSlots: new ItemSlots(concurrency) });
  await pollUntilEmpty(sqs, handler, concurrency);
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

/** Longest a poller idles while others work before it asks the queue again. */
const IDLE_POLL_MS = 2_000;

/** Seconds before a failed message may be received again. */
const RETRY_DELAY_S = 1;

/** Resolves when `signal` does or after `ms`, whichever comes first (the timer does not outlive it). */
async function waitForEither(signal: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([signal, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Runs `concurrency` pollers with `handler` until the work queue holds no message at all and
 * `arrivals` says no more will come, or, once `stopped()` says so, until the batches in flight
 * have ended (their failed messages back on the queue): no poller takes a new batch after the
 * stop. While work may still arrive, a poller that finds the queue empty waits for the next
 * `announce` (or the end) rather than asking the queue again; a stop should be announced too.
 */
export async function pollUntilEmpty(
  sqs: LocalSqs,
  handler: ReturnType<typeof createDownloadHandler>,
  concurrency: number,
  stopped: () => boolean = () => false,
  arrivals: WorkArrivals = WorkArrivals.none(),
): Promise<void> {
  // Batches in the handler, and a signal when the last of them ends: a poller that finds the queue
  // empty while others work idles until then, or a while (new messages, a failed one back after
  // its retry delay), instead of asking the queue twice every 250 ms (a receive and a count:
  // requests the archive pays per asset; a long batch of large messages made them most of the
  // tail's). A poller whose batch ends receives again at once: others need not wake for it, and
  // when it was the last, they wake once it has found whether the queue is drained.
  let working = 0;
  let allEnded = signal();
  /** A poller found the queue holding nothing at all: the others stop without asking again. */
  let drained = false;
  /** When the latest failed message is receivable again. */
  let retryAt = 0;
  /**
   * The count under way: pollers that find the queue empty at once (the last batch ended and woke
   * the idle ones) share one request rather than ask one each.
   */
  let counting: Promise<number> | undefined;
  const countQueue = () => {
    counting ??= countMessages(sqs, sqs.queues.queueUrl).finally(() => {
      counting = undefined;
    });
    return counting;
  };
  const counted: typeof handler = async (event, context) => {
    working++;
    try {
      return await handler(event, context);
    } finally {
      working--;
    }
  };
  /**
   * The queue was counted empty after `seen`: drained if detection had ended by then (and
   * nothing was announced since); otherwise waits for the next enqueue or the end. True: drained.
   */
  const emptyAfter = async (seen: number): Promise<boolean> => {
    // Something arrived (or ended) while the count was under way: look again.
    if (arrivals.version() !== seen) return false;
    if (!arrivals.producing()) {
      drained = true;
      allEnded.fire();
      return true;
    }
    await arrivals.changedSince(seen);
    return false;
  };
  const worker = async () => {
    /** This poller's batch just ended. */
    let ended = false;
    for (;;) {
      if (stopped() || drained) return;
      // Read before asking the queue: an enqueue after it is never missed.
      const seen = arrivals.version();
      // The last batch just ended: the count says at once whether the queue is drained, where a
      // receive on an empty queue waits out local-aws-sqs's 40 ms (AWS answers at once).
      if (ended && working === 0 && Date.now() >= retryAt && (await countQueue()) === 0) {
        if (await emptyAfter(seen)) return;
        ended = false;
        continue;
      }
      const outcome = await pollOnce({
        sqs: sqs.client,
        queueUrl: sqs.queues.queueUrl,
        queueArn: sqs.queues.queueArn,
        handler: counted,
        context: () => createLambdaContext('download-assets', 15 * 60 * 1000),
        batchSize: 5,
        visibilityTimeoutSeconds: 900,
        retryDelaySeconds: RETRY_DELAY_S,
      });
      ended = outcome !== undefined;
      if (outcome !== undefined) {
        // The last batch ending does not wake the idle pollers yet: this one asks the queue first
        // (below), and wakes them once it knows whether it is drained (then they ask nothing).
        if (outcome.failed > 0) retryAt = Date.now() + RETRY_DELAY_S * 1000;
      } else if (working > 0) {
        // Others are at work: until they end, new work arrives, a failed message is due, or a
        // while passed.
        const due = retryAt - Date.now();
        await waitForEither(
          Promise.race([allEnded.promise, arrivals.changedSince(seen)]),
          due > 0 ? Math.min(due + 50, IDLE_POLL_MS) : IDLE_POLL_MS,
        );
      } else {
        // Another poller found it drained while this one was asking: nothing more to ask.
        if (drained) return;
        // Empty now; failed messages reappear after their retry delay.
        if ((await countQueue()) === 0) {
          if (await emptyAfter(seen)) return;
          continue;
        }
        // Work left (in flight or waiting out its retry delay): the idle pollers look too.
        allEnded.fire();
        allEnded = signal();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (stopped()) await waitForInFlight(sqs);
}
