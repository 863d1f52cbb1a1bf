/**
 * The local SQS is in memory: what is still on a queue when a run ends would vanish with the
 * process. At the end of every run, the work left on the queues is parked in a file under the
 * data folder, and the next run puts it back before anything else:
 *
 * - dead letters (work that failed every try) go back to the dead-letter queue with their redrive
 *   history, where the redrive pass sends them on when the policy says so;
 * - work never finished (a run that stopped for a sign-in leaves its queue undrained, while the
 *   zone tokens have moved past it) goes straight back to the work queue.
 *
 * The file is replaced atomically and durably (fsynced) and only at the end of a run: a run killed midway finds the
 * previous file again next time (work done twice is skipped by the archive; none is lost).
 * The SQS client code is imported only when there is something to move: reading an empty file
 * (an idle run) loads none of it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Message, MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { replaceFileDurably } from '#shared/replace-file.ts';
import * as z from '#shared/zod.ts';
import type { WorkQueueUrls } from './servers/provision.ts';

export const PARKED_WORK_FILE = 'parked-work.json';

const ParkedMessageSchema = z.strictObject({
  body: z.string(),
  /** The string message attributes (`workId`, `redrives`, `redrivenAt`), kept as sent. */
  attributes: z.record(z.string(), z.strictObject({ dataType: z.string(), value: z.string() })),
});

const ParkedWorkSchema = z.strictObject({
  v: z.literal(1),
  deadLetters: z.array(ParkedMessageSchema),
  unfinished: z.array(ParkedMessageSchema),
});

type ParkedMessage = z.infer<typeof ParkedMessageSchema>;
export type ParkedWork = z.infer<typeof ParkedWorkSchema>;

export async function readParkedWork(dataDir: string): Promise<ParkedWork> {
  const file = path.join(dataDir, PARKED_WORK_FILE);
  if (!existsSync(file)) return { v: 1, deadLetters: [], unfinished: [] };
  return ParkedWorkSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** Owner-only (0600, as secrets.json): work messages carry signed download URLs, valid about an hour. */
async function writeParkedWork(dataDir: string, work: ParkedWork): Promise<void> {
  await replaceFileDurably(path.join(dataDir, PARKED_WORK_FILE), `${JSON.stringify(work)}\n`, {
    mode: 0o600,
  });
}

function toParked(message: Message): ParkedMessage {
  const attributes: ParkedMessage['attributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined && value.DataType !== undefined)
      attributes[name] = { dataType: value.DataType, value: value.StringValue };
  }
  return { body: message.Body ?? '', attributes };
}

function toAttributes(parked: ParkedMessage): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(parked.attributes).map(([name, a]) => [
      name,
      { DataType: a.dataType, StringValue: a.value },
    ]),
  );
}

/**
 * Whether a receive would find anything: the count answers at once, while local-aws-sqs answers a
 * receive that finds fewer messages than it asked for only after 40 ms (its short poll), so an
 * empty queue costs a parking run 40 ms per receive. `ApproximateNumberOfMessages` counts the
 * visible ones in AWS and the visible and in-flight ones locally: 0 means none visible in both.
 */
async function hasMessages(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(output.Attributes?.ApproximateNumberOfMessages ?? 0) > 0;
}

/** Receives (and deletes) every visible message of a queue. */
async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<ParkedMessage[]> {
  const { DeleteMessageBatchCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const parked = new Map<string, ParkedMessage>();
  while (await hasMessages(sqs, queueUrl)) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = [...new Map((received.Messages ?? []).map((m) => [m.MessageId, m])).values()];
    // What is left is in flight (not receivable): the caller counts it.
    if (messages.length === 0) break;
    for (const message of messages) parked.set(message.MessageId ?? '', toParked(message));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return [...parked.values()];
}

async function sendAll(sqs: SQSClient, queueUrl: string, messages: readonly ParkedMessage[]): Promise<void> {
  const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    const output = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, i) => ({
          Id: String(i),
          MessageBody: m.body,
          MessageAttributes: toAttributes(m),
        })),
      }),
    );
    if ((output.Failed ?? []).length > 0)
      throw new Error(`${output.Failed?.length} parked messages not restored`);
  }
}

/** Puts parked work back on the (empty, fresh) local queues. */
export async function restoreParkedWork(
  sqs: SQSClient,
  queues: WorkQueueUrls,
  work: ParkedWork,
): Promise<void> {
  await sendAll(sqs, queues.deadLetterQueueUrl, work.deadLetters);
  await sendAll(sqs, queues.queueUrl, work.unfinished);
}

/** Moves what is left on the local queues into the file; returns what it parked. */
export async function parkQueuedWork(
  sqs: SQSClient,
  queues: WorkQueueUrls,
  dataDir: string,
): Promise<ParkedWork> {
  // Two queues, independent of each other: parked side by side.
  const [deadLetters, unfinished] = await Promise.all([
    drainQueue(sqs, queues.deadLetterQueueUrl),
    drainQueue(sqs, queues.queueUrl),
  ]);
  const work: ParkedWork = { v: 1, deadLetters, unfinished };
  await writeParkedWork(dataDir, work);
  return work;
}
