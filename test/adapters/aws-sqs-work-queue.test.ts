import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { EnqueueError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import {
  describeWorkQueueContract,
  membership,
  workMessage,
} from '#test/fakes/contracts/work-queue-contract.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

interface Received {
  readonly message: WorkMessage;
  readonly workId: string | undefined;
}

/** Receives until the queue is empty. Visibility stays above the wait time (local-aws-sqs bug). */
async function drainQueue(queueUrl: string): Promise<Received[]> {
  const received = new Map<string, Received>();
  for (;;) {
    const output = await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) {
      received.set(m.MessageId ?? '', {
        message: parseWorkMessage(m.Body ?? ''),
        workId: m.MessageAttributes?.workId?.StringValue,
      });
    }
    const unique = [...new Map(messages.map((m) => [m.MessageId, m])).values()];
    await local.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: unique.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return [...received.values()];
}

describeWorkQueueContract('SqsWorkQueue on local-aws-sqs', async ({ maxMessageBytes }) => {
  const { queueUrl } = await local.createQueue();
  const queue = new SqsWorkQueue({ client: local.sqs, queueUrl, maxMessageBytes });
  return { queue, drain: async () => (await drainQueue(queueUrl)).map((r) => r.message) };
});

type Victim = (entryId: string, attempt: number) => 'fail' | 'senderFault' | 'ok';

/**
 * An SQS client whose SendMessageBatch really sends only some entries and reports the others
 * as failed, the way SQS answers when it is overloaded. `requests` records each batch sent.
 */
function flakySqs(victim: Victim) {
  const client = new SQSClient(local.aws.clientConfig.sqs);
  const requests: { entries: number; bytes: number }[] = [];
  let attempt = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      attempt += 1;
      const input = args.input as SendMessageBatchCommandInput;
      const entries = input.Entries ?? [];
      requests.push({
        entries: entries.length,
        bytes: entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0),
      });
      const verdicts = entries.map((e) => ({ entry: e, verdict: victim(e.Id ?? '', attempt) }));
      const kept = verdicts.filter((v) => v.verdict === 'ok').map((v) => v.entry);
      const failed = verdicts
        .filter((v) => v.verdict !== 'ok')
        .map((v) => ({
          Id: v.entry.Id,
          Code: v.verdict === 'senderFault' ? 'InvalidParameterValue' : 'InternalError',
          SenderFault: v.verdict === 'senderFault',
        }));
      const sent: { output: SendMessageBatchCommandOutput; response: unknown } =
        kept.length > 0
          ? ((await next({ ...args, input: { ...input, Entries: kept } })) as {
              output: SendMessageBatchCommandOutput;
              response: unknown;
            })
          : { output: { Successful: [], Failed: [], $metadata: {} }, response: {} };
      return { ...sent, output: { ...sent.output, Failed: [...(sent.output.Failed ?? []), ...failed] } };
    },
    { step: 'initialize', name: 'flakySendMessageBatch' },
  );
  return { client, requests };
}

describe('SqsWorkQueue', () => {
  it('resends the entries SQS failed and stores every message exactly once', async () => {
    const { queueUrl } = await local.createQueue();
    const { client } = flakySqs((id, attempt) =>
      attempt <= 2 && (id === 'm1' || id === 'm3') ? 'fail' : 'ok',
    );
    const queue = new SqsWorkQueue({ client, queueUrl, retryDelayMs: 1 });
    const messages = Array.from({ length: 5 }, (_, i) => workMessage([membership(i)], `run-${i}`));
    await queue.enqueue(messages);
    const received = await drainQueue(queueUrl);
    expect(received.map((r) => r.message.runId).sort()).toEqual(messages.map((m) => m.runId).sort());
    client.destroy();
  });

  it('fails with EnqueueError when SQS keeps failing an entry', async () => {
    const { queueUrl } = await local.createQueue();
    const { client, requests } = flakySqs((id) => (id === 'm0' ? 'fail' : 'ok'));
    const queue = new SqsWorkQueue({ client, queueUrl, retryDelayMs: 1, maxAttempts: 3 });
    const call = queue.enqueue([workMessage([membership(1)], 'a'), workMessage([membership(2)], 'b')]);
    await expect(call).rejects.toMatchObject({ name: 'EnqueueError', failed: 1 });
    expect(requests).toHaveLength(3);
    expect((await drainQueue(queueUrl)).map((r) => r.message.runId)).toEqual(['b']);
    client.destroy();
  });

  it('does not resend an entry SQS refused as the sender’s fault', async () => {
    const { queueUrl } = await local.createQueue();
    const { client, requests } = flakySqs((id) => (id === 'm0' ? 'senderFault' : 'ok'));
    const queue = new SqsWorkQueue({ client, queueUrl, retryDelayMs: 1 });
    await expect(queue.enqueue([workMessage([membership(1)])])).rejects.toBeInstanceOf(EnqueueError);
    expect(requests).toHaveLength(1);
    client.destroy();
  });

  it('sends at most 10 entries and at most the size limit per request', async () => {
    const { queueUrl } = await local.createQueue();
    const { client, requests } = flakySqs(() => 'ok');
    const maxMessageBytes = 8 * 1024;
    const queue = new SqsWorkQueue({ client, queueUrl, maxMessageBytes });
    const small = Array.from({ length: 12 }, (_, i) => workMessage([membership(i)]));
    const large = Array.from({ length: 6 }, (_, i) => workMessage([membership(i, 3000)]));
    await queue.enqueue([...small, ...large]);
    expect(requests.every((r) => r.entries <= 10 && r.bytes <= maxMessageBytes)).toBe(true);
    expect((await drainQueue(queueUrl)).length).toBe(18);
    client.destroy();
  });

  it('gives the same work the same workId', async () => {
    const { queueUrl } = await local.createQueue();
    const queue = new SqsWorkQueue({ client: local.sqs, queueUrl });
    const message = workMessage([membership(7)]);
    await queue.enqueue([message, message]);
    const received = await drainQueue(queueUrl);
    expect(received).toHaveLength(2);
    expect(received[0]?.workId).toMatch(/^[0-9a-f]{64}$/);
    expect(received[0]?.workId).toBe(received[1]?.workId);
  });
});
