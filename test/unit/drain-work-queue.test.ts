/**
 * The local download pollers against local-aws-sqs: they drain the queue, retry what failed, and
 * while one long batch runs the idle ones do not ask the queue every 250 ms (each receive and each
 * count is an AWS request the archive pays for). While detection still enqueues, an empty queue is
 * not drained: they wait for the next enqueue, without asking the queue meanwhile.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSqs } from '#compose/local-aws-stack.ts';
import { pollUntilEmpty } from '#local/drain-work-queue.ts';
import { WorkArrivals } from '#local/work-arrivals.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

/** A queue holding `bodies`, seen through a client that counts the requests sent by name. */
async function countedQueue(bodies: readonly string[]) {
  const queues = await local.createQueue({ visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  for (const body of bodies)
    await local.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
  const requests = new Map<string, number>();
  const client = {
    send: (command: { constructor: { name: string } }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      requests.set(name, (requests.get(name) ?? 0) + 1);
      return local.sqs.send(command as Parameters<SQSClient['send']>[0]);
    },
  } as unknown as SQSClient;
  const sqs: LocalSqs = { client, endpoint: '', queues };
  return { sqs, requests };
}

type Handler = Parameters<typeof pollUntilEmpty>[1];
const handlerOf = (fn: (event: SQSEvent) => Promise<SQSBatchResponse>) => fn as unknown as Handler;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Waits until `condition` holds (or 20 s pass): a handling awaited by a fixed sleep is missed on
 * a loaded machine, and the assertion after it says whether it came.
 */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 20_000; !condition() && Date.now() < deadline; ) await sleep(20);
}

describe('the local download pollers', () => {
  it('idle while a long batch runs: a few receives and counts, not two every 250 ms per poller', async () => {
    const { sqs, requests } = await countedQueue(['long']);
    const handled: string[] = [];
    const handler = handlerOf(async (event) => {
      await sleep(3_000);
      handled.push(...event.Records.map((r) => r.body));
      return { batchItemFailures: [] };
    });

    await pollUntilEmpty(sqs, handler, 4);

    expect(handled).toEqual(['long']);
    // Three idle pollers for 3 s at 250 ms made about 70; each now waits for the batch to end.
    const asked = (requests.get('ReceiveMessage') ?? 0) + (requests.get('GetQueueAttributes') ?? 0);
    expect(asked).toBeLessThanOrEqual(20);
  }, 30_000);

  it('finds the queue drained with one count and one receive, not one each per poller (issue 12)', async () => {
    const { sqs, requests } = await countedQueue(['a', 'b']);
    const handler = handlerOf(async () => {
      await sleep(200);
      return { batchItemFailures: [] };
    });

    await pollUntilEmpty(sqs, handler, 4);

    expect(requests.get('GetQueueAttributes')).toBe(1);
    // Each poller's first receive, and one more by each poller whose batch ended (one or two
    // batches); the idle ones, woken once it was found drained, ask nothing (they made three more).
    expect(requests.get('ReceiveMessage')).toBeLessThanOrEqual(6);
  }, 30_000);

  it('the last batch to end asks the count, not a receive that local-aws-sqs answers empty after 40 ms', async () => {
    const { sqs, requests } = await countedQueue(['a']);
    const handler = handlerOf(async () => ({ batchItemFailures: [] }));

    await pollUntilEmpty(sqs, handler, 1);

    expect(requests.get('ReceiveMessage')).toBe(1);
    expect(requests.get('GetQueueAttributes')).toBe(1);
  }, 30_000);

  it('retries a failed message while another batch still runs, and ends once the queue is empty', async () => {
    const { sqs } = await countedQueue(['long', 'flaky']);
    const attempts = new Map<string, number>();
    const handler = handlerOf(async (event) => {
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        const n = (attempts.get(record.body) ?? 0) + 1;
        attempts.set(record.body, n);
        if (record.body === 'long') await sleep(2_500);
        if (record.body === 'flaky' && n === 1) failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    });

    await pollUntilEmpty(sqs, handler, 2);

    expect(attempts.get('long')).toBe(1);
    expect(attempts.get('flaky')).toBe(2);
  }, 30_000);

  it('while work still arrives, wait for it without asking the queue, and end once arrivals end', async () => {
    const { sqs, requests } = await countedQueue([]);
    const handled: string[] = [];
    const handler = handlerOf(async (event) => {
      handled.push(...event.Records.map((r) => r.body));
      return { batchItemFailures: [] };
    });
    const arrivals = new WorkArrivals();
    let ended = false;
    const polling = pollUntilEmpty(sqs, handler, 4, () => false, arrivals).then(() => {
      ended = true;
    });
    const enqueue = async (body: string) => {
      await local.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queues.queueUrl, MessageBody: body }));
      arrivals.announce();
    };

    await sleep(1_500);
    // An empty queue while detection runs is not drained, and is not asked again and again.
    expect(ended).toBe(false);
    const askedWhileIdle = (requests.get('ReceiveMessage') ?? 0) + (requests.get('GetQueueAttributes') ?? 0);
    expect(askedWhileIdle).toBeLessThanOrEqual(8);
    await enqueue('first page');
    await until(() => handled.length >= 1);
    expect(handled).toEqual(['first page']);
    expect(ended).toBe(false);
    await enqueue('second page');
    await until(() => handled.length >= 2);
    // Idle a while after it: still not drained, and not asking the queue meanwhile.
    await sleep(3_000);
    expect(handled).toEqual(['first page', 'second page']);
    expect(ended).toBe(false);
    const asked = (requests.get('ReceiveMessage') ?? 0) + (requests.get('GetQueueAttributes') ?? 0);
    // Waiting for the next page costs nothing: a few requests per enqueue, none per second.
    expect(asked).toBeLessThanOrEqual(askedWhileIdle + 20);
    arrivals.finish();
    await polling;
    expect(ended).toBe(true);
  }, 30_000);

  it('a stop ends pollers that wait for work still to come', async () => {
    const { sqs } = await countedQueue([]);
    const handler = handlerOf(async () => ({ batchItemFailures: [] }));
    const arrivals = new WorkArrivals();
    let stop = false;
    const polling = pollUntilEmpty(sqs, handler, 2, () => stop, arrivals);
    await sleep(500);
    stop = true;
    arrivals.announce();
    // Ends rather than waits on (the test's limit is 30 s; a loaded machine may take seconds).
    const ended = await Promise.race([polling.then(() => true), sleep(20_000).then(() => false)]);
    expect(ended).toBe(true);
    expect(arrivals.producing()).toBe(true);
  }, 30_000);
});
