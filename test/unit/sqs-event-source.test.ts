/**
 * The local SQS-to-Lambda trigger against local-aws-sqs: the contract Lambda's event-source
 * mapping keeps with `ReportBatchItemFailures`.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '#local/lambda-context.ts';
import type { WorkQueueUrls } from '#local/servers/provision.ts';
import { pollOnce, type SqsHandler } from '#local/sqs-event-source.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

async function queueWith(bodies: readonly string[], maxReceiveCount = 5): Promise<WorkQueueUrls> {
  const queue = await local.createQueue({ visibilityTimeoutSeconds: 30, maxReceiveCount });
  for (const body of bodies)
    await local.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  return queue;
}

async function count(queueUrl: string): Promise<number> {
  const { Attributes } = await local.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function poll(queue: WorkQueueUrls, handler: SqsHandler, batchSize = 10) {
  return pollOnce({
    sqs: local.sqs,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    handler,
    context: () => createLambdaContext('download-assets', 60_000),
    batchSize,
    visibilityTimeoutSeconds: 30,
    retryDelaySeconds: 1,
  });
}

/** Polls until a batch arrives (a failed message is invisible for the retry delay first). */
async function pollUntilReceived(queue: WorkQueueUrls, handler: SqsHandler) {
  for (let i = 0; i < 40; i++) {
    const outcome = await poll(queue, handler);
    if (outcome !== undefined) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no message came back');
}

const succeedAll: SqsHandler = async () => ({ batchItemFailures: [] });

describe('the local SQS event source', () => {
  it('reports an empty queue without invoking the handler', async () => {
    const queue = await queueWith([]);
    let invoked = false;
    expect(
      await poll(queue, async () => {
        invoked = true;
        return { batchItemFailures: [] };
      }),
    ).toBeUndefined();
    expect(invoked).toBe(false);
  });

  it('hands the handler an SQS event with each body, id and the queue ARN, and a Lambda context', async () => {
    const queue = await queueWith(['one', 'two']);
    let seen: { event: SQSEvent; context: Context } | undefined;

    await poll(queue, async (event, context) => {
      seen = { event, context };
      return { batchItemFailures: [] };
    });

    expect(seen?.event.Records.map((r) => r.body).sort()).toEqual(['one', 'two']);
    for (const record of seen?.event.Records ?? []) {
      expect(record).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queue.queueArn });
      expect(record.messageId).not.toBe('');
      expect(record.attributes.ApproximateReceiveCount).toBe('1');
    }
    expect(seen?.context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('deletes every record that succeeded', async () => {
    const queue = await queueWith(['a', 'b', 'c']);

    expect(await poll(queue, succeedAll)).toEqual({ received: 3, failed: 0, threw: false });

    expect(await count(queue.queueUrl)).toBe(0);
  });

  it('keeps only the records the handler reported as failed, and delivers them again', async () => {
    const queue = await queueWith(['keep', 'fail']);
    const failOne: SqsHandler = async (event): Promise<SQSBatchResponse> => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'fail').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    });

    expect(await poll(queue, failOne)).toEqual({ received: 2, failed: 1, threw: false });

    const bodies: string[] = [];
    await pollUntilReceived(queue, async (event) => {
      bodies.push(...event.Records.map((r) => r.body));
      return { batchItemFailures: [] };
    });
    expect(bodies).toEqual(['fail']);
    expect(await count(queue.queueUrl)).toBe(0);
  });

  it('keeps the whole batch when the handler throws', async () => {
    const queue = await queueWith(['x', 'y']);

    const outcome = await poll(queue, async () => {
      throw new Error('the invocation failed');
    });

    expect(outcome).toEqual({ received: 2, failed: 2, threw: true });
    const again = await pollUntilReceived(queue, succeedAll);
    expect(again.received).toBe(2);
  });

  it('moves a message that keeps failing to the dead-letter queue after exactly the receive limit', async () => {
    const queue = await queueWith(['poison'], 3);
    let deliveries = 0;
    const receiveCounts: string[] = [];
    const failAll: SqsHandler = async (event) => {
      deliveries += event.Records.length;
      receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    };

    let dead: string[] = [];
    for (let i = 0; i < 60 && dead.length === 0; i++) {
      await poll(queue, failAll);
      const received = await local.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 30,
        }),
      );
      dead = (received.Messages ?? []).map((m) => m.Body ?? '');
      if (dead.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(dead).toEqual(['poison']);
    // Putting a failed message back (its visibility change) is not a receive: three tries, not two.
    expect(deliveries).toBe(3);
    expect(receiveCounts).toEqual(['1', '2', '3']);
    expect(await count(queue.queueUrl)).toBe(0);
  });
});
