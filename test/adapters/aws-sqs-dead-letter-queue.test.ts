/**
 * Self-healing over SQS (local-aws-sqs): the redrive use case and the dead-letter adapter move due
 * work back to the work queue with its history, leave recent and given-up work in place, and
 * count what they gave up.
 */
import {
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetterQueue } from '#adapters/aws/sqs-dead-letter-queue.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { redriveDeadLetters } from '#app/redrive-dead-letters.ts';
import type { RedrivePolicy } from '#domain/redrive/redrive-policy.ts';
import { METRICS } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

const HOUR = 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 6, 12);
const policy: RedrivePolicy = { maxRedrives: 2, firstBackoffMs: HOUR, maxBackoffMs: 4 * HOUR };

async function deadLetter(queueUrl: string, body: string, history: { redrives?: number; at?: number } = {}) {
  const attributes: Record<string, MessageAttributeValue> = {
    workId: { DataType: 'String', StringValue: `id-${body}` },
  };
  if (history.redrives !== undefined)
    attributes['redrives'] = { DataType: 'Number', StringValue: String(history.redrives) };
  if (history.at !== undefined)
    attributes['redrivenAt'] = { DataType: 'Number', StringValue: String(history.at) };
  await local.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes }),
  );
}

async function receiveAll(queueUrl: string) {
  const received = await local.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 30,
      MessageAttributeNames: ['All'],
    }),
  );
  return new Map(
    (received.Messages ?? []).map((m) => [
      m.Body ?? '',
      Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
    ]),
  );
}

async function visible(queueUrl: string): Promise<number> {
  const { Attributes } = await local.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('redriving the dead-letter queue', () => {
  it('sends due work back with one more redrive, keeps recent and given-up work, and counts what it gave up', async () => {
    const queues = await local.createQueue({ visibilityTimeoutSeconds: 30 });
    const dlq = queues.deadLetterQueueUrl;
    await deadLetter(dlq, 'fresh');
    await deadLetter(dlq, 'due', { redrives: 1, at: NOW - 2 * HOUR });
    await deadLetter(dlq, 'recent', { redrives: 1, at: NOW - HOUR / 2 });
    await deadLetter(dlq, 'hopeless', { redrives: 2, at: NOW - 100 * HOUR });
    const metrics = new CollectedMetrics();

    const report = await redriveDeadLetters({
      deadLetters: new SqsDeadLetterQueue({
        client: local.sqs,
        deadLetterQueueUrl: dlq,
        workQueueUrl: queues.queueUrl,
      }),
      retries: new InMemorySyncStateStore(),
      decode: parseWorkMessage,
      logger: createLogger({ serviceName: 'test', level: 'SILENT' }),
      metrics,
      now: () => NOW,
      policy,
    });

    expect(report).toEqual({ redriven: 2, waiting: 1, givenUp: 1 });
    const work = await receiveAll(queues.queueUrl);
    expect(work).toEqual(
      new Map([
        ['fresh', { workId: 'id-fresh', redrives: '1', redrivenAt: String(NOW) }],
        ['due', { workId: 'id-due', redrives: '2', redrivenAt: String(NOW) }],
      ]),
    );
    // What stays is visible again at once: the next pass (or the local save) sees it.
    expect(await visible(dlq)).toBe(2);
    expect([...(await receiveAll(dlq)).keys()].sort()).toEqual(['hopeless', 'recent']);
    expect(metrics.values.get(METRICS.workGivenUp)).toBe(1);
    expect(metrics.values.get(METRICS.workRedriven)).toBe(2);
  });

  it('counts a message not yet receivable as pending (a dead letter the local runtime just put back)', async () => {
    const queues = await local.createQueue();
    await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        MessageBody: 'just restored',
        DelaySeconds: 5,
      }),
    );
    const dlq = new SqsDeadLetterQueue({
      client: local.sqs,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      workQueueUrl: queues.queueUrl,
    });
    expect(await dlq.pending()).toBe(1);
  });

  it('says when each letter was sent (SentTimestamp) and removes a taken one', async () => {
    const queues = await local.createQueue({ visibilityTimeoutSeconds: 30 });
    const before = Date.now();
    await deadLetter(queues.deadLetterQueueUrl, 'settled');
    const dlq = new SqsDeadLetterQueue({
      client: local.sqs,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      workQueueUrl: queues.queueUrl,
    });
    const [letter] = await dlq.take(10);
    expect(letter?.sentAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(letter?.sentAt).toBeLessThanOrEqual(Date.now());

    await dlq.remove(letter!);

    expect(await dlq.pending()).toBe(0);
  });

  it('does nothing to an empty dead-letter queue', async () => {
    const queues = await local.createQueue();
    const report = await redriveDeadLetters({
      deadLetters: new SqsDeadLetterQueue({
        client: local.sqs,
        deadLetterQueueUrl: queues.deadLetterQueueUrl,
        workQueueUrl: queues.queueUrl,
      }),
      retries: new InMemorySyncStateStore(),
      decode: parseWorkMessage,
      logger: createLogger({ serviceName: 'test', level: 'SILENT' }),
      metrics: new CollectedMetrics(),
      now: () => NOW,
    });
    expect(report).toEqual({ redriven: 0, waiting: 0, givenUp: 0 });
  });
});
