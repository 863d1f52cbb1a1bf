/**
 * Plays Lambda's SQS event-source mapping on this machine: receive a batch, invoke the handler
 * with an `SQSEvent`, delete what succeeded. Exactly Lambda's contract with
 * `ReportBatchItemFailures`: items named in `batchItemFailures` stay on the queue; a handler that
 * throws leaves the whole batch there; the queue's redrive policy moves poison messages to the DLQ.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliveriesOf } from './servers/sqs-server.ts';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  readonly context: () => Context;
  readonly batchSize?: number;
  /** Seconds a received message stays invisible; kept above the wait time (local-aws-sqs bug). */
  readonly visibilityTimeoutSeconds?: number;
  /** Seconds before a failed message may be received again (Lambda waits the full visibility timeout). */
  readonly retryDelaySeconds?: number;
}

export interface BatchOutcome {
  readonly received: number;
  readonly failed: number;
  readonly threw: boolean;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: String(deliveriesOf(Number(attributes.ApproximateReceiveCount ?? '1'))),
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** Receives and processes one batch. Returns undefined when the queue had nothing visible. */
export async function pollOnce(options: SqsEventSourceOptions): Promise<BatchOutcome | undefined> {
  const { sqs, queueUrl } = options;
  const visibility = options.visibilityTimeoutSeconds ?? 120;
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(options.batchSize ?? 10, 10),
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibility,
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return undefined;

  // local-aws-sqs can hand out one message twice in a batch; Lambda never does.
  const unique = [...new Map(messages.map((m) => [m.MessageId, m])).values()];
  const event: SQSEvent = { Records: unique.map((m) => toRecord(m, options.queueArn)) };

  let failedIds: Set<string>;
  let threw = false;
  try {
    const response = await options.handler(event, options.context());
    failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    threw = true;
    failedIds = new Set(unique.map((m) => m.MessageId ?? ''));
  }

  const succeeded = unique.filter((m) => !failedIds.has(m.MessageId ?? ''));
  const failed = unique.filter((m) => failedIds.has(m.MessageId ?? ''));
  if (succeeded.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  if (failed.length > 0) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: failed.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: options.retryDelaySeconds ?? 1,
        })),
      }),
    );
  }
  return { received: unique.length, failed: failed.length, threw };
}
