/**
 * `WorkQueue` on SQS. Messages are split to fit the size limit, sent with SendMessageBatch in
 * groups of at most 10 entries and at most the limit in total, and entries SQS reports as
 * failed are sent again, a bounded number of times, before the call fails with `EnqueueError`.
 * (The SDK retries whole requests; partial batch failures are ours to retry.) Failures SQS
 * blames on the sender are not retried.
 *
 * Every message carries a `workId` attribute (SHA-256 of the body); on a FIFO queue it is also
 * the deduplication id, so a detection run that re-enqueues after a crash is deduplicated
 * within SQS's five-minute window. On a standard queue the consumer's idempotence covers it.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { EnqueueError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { EnqueueReceipt, WorkQueue } from '../../ports/work-queue.ts';
import { MAX_MESSAGE_BYTES, type SerialisedWork, splitWorkMessage } from './work-message-split.ts';

export interface SqsWorkQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Sends of a failed entry before giving up (first send included). */
  readonly maxAttempts?: number;
  /** First pause before resending failed entries; doubles each time. */
  readonly retryDelayMs?: number;
  readonly maxMessageBytes?: number;
}

const BATCH_ENTRIES = 10;
const WORK_ID_ATTRIBUTE = 'workId';
/** Bytes the `workId` attribute adds to a message's size (name + type + 64 hex characters). */
const ATTRIBUTE_BYTES = WORK_ID_ATTRIBUTE.length + 'String'.length + 64;

export class SqsWorkQueue implements WorkQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxMessageBytes: number;
  private readonly fifo: boolean;

  constructor(options: SqsWorkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.fifo = options.queueUrl.endsWith('.fifo');
  }

  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    const pieces = messages.flatMap((message) =>
      splitWorkMessage(message, this.maxMessageBytes - ATTRIBUTE_BYTES),
    );
    let pending = pieces;
    const refused: string[] = [];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > 1)
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 2)));
      const failed: SerialisedWork[] = [];
      for (const batch of this.batches(pending)) {
        const outcome = await this.sendBatch(batch);
        failed.push(...outcome.retry);
        refused.push(...outcome.refused);
      }
      pending = failed;
      if (attempt >= this.maxAttempts) break;
    }
    const notStored = pending.length + refused.length;
    if (notStored > 0) {
      const reasons = [...new Set(refused)].join(', ');
      throw new EnqueueError(
        `${notStored} of ${pieces.length} work messages were not stored${reasons ? ` (${reasons})` : ''}`,
        notStored,
      );
    }
    return { requested: messages.length, sent: pieces.length };
  }

  /** Groups of at most 10 entries whose bodies together stay within the size limit. */
  private *batches(pieces: readonly SerialisedWork[]): Generator<SerialisedWork[]> {
    let batch: SerialisedWork[] = [];
    let bytes = 0;
    for (const piece of pieces) {
      const size = piece.bytes + ATTRIBUTE_BYTES;
      if (batch.length === BATCH_ENTRIES || (batch.length > 0 && bytes + size > this.maxMessageBytes)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(piece);
      bytes += size;
    }
    if (batch.length > 0) yield batch;
  }

  private async sendBatch(
    batch: readonly SerialisedWork[],
  ): Promise<{ retry: SerialisedWork[]; refused: string[] }> {
    const entries: SendMessageBatchRequestEntry[] = batch.map((piece, index) => ({
      Id: `m${index}`,
      MessageBody: piece.body,
      MessageAttributes: { [WORK_ID_ATTRIBUTE]: { DataType: 'String', StringValue: piece.workId } },
      ...(this.fifo && { MessageDeduplicationId: piece.workId, MessageGroupId: piece.workId }),
    }));
    const output = await this.client.send(
      new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
    );
    const retry: SerialisedWork[] = [];
    const refused: string[] = [];
    const succeeded = new Set((output.Successful ?? []).map((entry) => entry.Id));
    const failures = new Map((output.Failed ?? []).map((failure) => [failure.Id, failure]));
    batch.forEach((piece, index) => {
      const id = `m${index}`;
      if (succeeded.has(id)) return;
      const failure = failures.get(id);
      // An entry SQS neither confirmed nor refused is not known to be stored: send it again.
      if (failure?.SenderFault) refused.push(failure.Code ?? 'SenderFault');
      else retry.push(piece);
    });
    return { retry, refused };
  }
}
