/**
 * `DeadLetterQueue` on SQS: the work queue's dead-letter queue. Redriving sends the body back to
 * the work queue with its `workId` and two more attributes, `redrives` and `redrivenAt`, and
 * deletes it here only once the send succeeded (a crash in between duplicates work, which the
 * consumer's idempotence absorbs, and never loses it). SQS keeps message attributes when it moves
 * a message to the dead-letter queue, so the history travels with the work.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterQueue } from '#ports/dead-letter-queue.ts';

export const REDRIVE_ATTRIBUTES = {
  redrives: 'redrives',
  redrivenAt: 'redrivenAt',
  workId: 'workId',
} as const;

export interface SqsDeadLetterQueueOptions {
  readonly client: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly workQueueUrl: string;
  /** Seconds a taken message stays out of sight if the run ends before releasing it. */
  readonly holdSeconds?: number;
}

interface SqsDeadLetter extends DeadLetter {
  readonly workId?: string;
}

function numberAttribute(value: MessageAttributeValue | undefined): number | undefined {
  const parsed = Number(value?.StringValue);
  return value?.StringValue !== undefined && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  private readonly options: SqsDeadLetterQueueOptions;
  private readonly fifo: boolean;

  constructor(options: SqsDeadLetterQueueOptions) {
    this.options = options;
    this.fifo = options.workQueueUrl.endsWith('.fifo');
  }

  async pending(): Promise<number> {
    const { Attributes } = await this.options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.deadLetterQueueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    // A message just sent is "delayed" until it becomes receivable (local-aws-sqs: one tick).
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  async take(max: number): Promise<DeadLetter[]> {
    const received = await this.options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
        WaitTimeSeconds: 0,
        VisibilityTimeout: this.options.holdSeconds ?? 300,
        MessageAttributeNames: ['All'],
        // When SQS deletes it: `SentTimestamp` + the retention (kept through the dead-letter move).
        // Both names: local-aws-sqs reads the older one.
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    // A receive can hand out one message twice in a batch (local-aws-sqs); keep the first.
    const unique = new Map((received.Messages ?? []).map((m) => [m.MessageId, m]));
    return [...unique.values()].flatMap((message): SqsDeadLetter[] => {
      if (message.Body === undefined || message.ReceiptHandle === undefined) return [];
      const attributes = message.MessageAttributes ?? {};
      const lastRedrivenAt = numberAttribute(attributes[REDRIVE_ATTRIBUTES.redrivenAt]);
      const workId = attributes[REDRIVE_ATTRIBUTES.workId]?.StringValue;
      const sentAt = Number(message.Attributes?.SentTimestamp);
      return [
        {
          body: message.Body,
          redrives: Math.floor(numberAttribute(attributes[REDRIVE_ATTRIBUTES.redrives]) ?? 0),
          handle: message.ReceiptHandle,
          ...(lastRedrivenAt !== undefined && { lastRedrivenAt }),
          ...(workId !== undefined && { workId }),
          ...(sentAt > 0 && { sentAt }),
        },
      ];
    });
  }

  async redrive(letter: DeadLetter, at: number): Promise<void> {
    const workId = (letter as SqsDeadLetter).workId;
    const redrives = letter.redrives + 1;
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.workQueueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          ...(workId !== undefined && {
            [REDRIVE_ATTRIBUTES.workId]: { DataType: 'String', StringValue: workId },
          }),
          [REDRIVE_ATTRIBUTES.redrives]: { DataType: 'Number', StringValue: String(redrives) },
          [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'Number', StringValue: String(at) },
        },
        ...(this.fifo && {
          MessageGroupId: workId ?? `redrive-${at}`,
          MessageDeduplicationId: `${workId ?? at}-r${redrives}`,
        }),
      }),
    );
    await this.options.client.send(
      new DeleteMessageCommand({ QueueUrl: this.options.deadLetterQueueUrl, ReceiptHandle: letter.handle }),
    );
  }

  async remove(letter: DeadLetter): Promise<void> {
    await this.options.client.send(
      new DeleteMessageCommand({ QueueUrl: this.options.deadLetterQueueUrl, ReceiptHandle: letter.handle }),
    );
  }

  async release(letters: readonly DeadLetter[]): Promise<void> {
    for (let start = 0; start < letters.length; start += 10) {
      await this.options.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.deadLetterQueueUrl,
          Entries: letters.slice(start, start + 10).map((letter, index) => ({
            Id: String(index),
            ReceiptHandle: letter.handle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
}
