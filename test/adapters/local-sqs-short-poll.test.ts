/**
 * The local SQS answers a short poll (`WaitTimeSeconds: 0`) as SQS does: at once, with what is
 * receivable. local-aws-sqs alone waits 40 ms whenever it finds fewer messages than asked for
 * (an empty queue included), which a drain's last receive and every parking paid. Visibility,
 * receive counts and the redrive to the dead-letter queue stay local-aws-sqs's own.
 */
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/servers/client-config.ts';
import { ensureWorkQueue } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSqsServer } from '#local/servers/sqs-server.ts';

/** local-aws-sqs's wait when a receive finds fewer messages than asked for. */
const LOCAL_AWS_SQS_FLOOR_MS = 40;

let server: LocalServer;
let client: SQSClient;

beforeAll(async () => {
  server = await startSqsServer();
  client = new SQSClient(localClientConfig(server.endpoint));
});
afterAll(async () => {
  client.destroy();
  await server.stop();
});

const receive = (queueUrl: string, max: number, waitSeconds = 0, visibilitySeconds = 900) =>
  client
    .send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: visibilitySeconds,
        AttributeNames: ['All'],
      }),
    )
    .then((output) => output.Messages ?? []);

const send = (queueUrl: string, body: string) =>
  client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

describe('the local SQS short poll', () => {
  it('answers a receive on an empty queue at once', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'short-poll-empty');
    await receive(queueUrl, 10); // the client's first request sets up its connection
    const rounds = 10;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) expect(await receive(queueUrl, 10)).toEqual([]);
    // Each of them alone would have waited out the floor.
    expect(performance.now() - started).toBeLessThan(rounds * LOCAL_AWS_SQS_FLOOR_MS);
  });

  it('hands out the messages there are without waiting for more', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'short-poll-fewer');
    await receive(queueUrl, 10);
    const rounds = 8;
    let waited = 0;
    for (let i = 0; i < rounds; i++) {
      await send(queueUrl, `a${i}`);
      await send(queueUrl, `b${i}`);
      const started = performance.now();
      const messages = await receive(queueUrl, 10);
      waited += performance.now() - started;
      expect(messages.map((m) => m.Body).sort()).toEqual([`a${i}`, `b${i}`]);
    }
    expect(waited).toBeLessThan(rounds * LOCAL_AWS_SQS_FLOOR_MS);
  });

  it('keeps what it hands out invisible and counts each receive', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'short-poll-visibility');
    await send(queueUrl, 'one');
    const [first] = await receive(queueUrl, 5);
    expect(first?.Body).toBe('one');
    expect(first?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(await receive(queueUrl, 5)).toEqual([]);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [again] = await receive(queueUrl, 5);
    expect(again?.Body).toBe('one');
    // The visibility change counts as a receive locally (sqs-server.ts), so 3, not 2.
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('3');
  });

  it('still moves a message past its receive limit to the dead-letter queue', async () => {
    const { queueUrl, deadLetterQueueUrl } = await ensureWorkQueue(client, 'short-poll-redrive', {
      maxReceiveCount: 1,
    });
    await send(queueUrl, 'doomed');
    // One failed delivery: its receive and the visibility change that puts it back.
    const [message] = await receive(queueUrl, 5);
    expect(message?.Body).toBe('doomed');
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await receive(queueUrl, 5)).toEqual([]);
    expect((await receive(deadLetterQueueUrl, 5)).map((m) => m.Body)).toEqual(['doomed']);
  });

  it('lets a long poll wait for a message that comes', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'short-poll-long');
    const later = new Promise((resolve) => setTimeout(resolve, 100)).then(() => send(queueUrl, 'late'));
    const messages = await receive(queueUrl, 1, 2);
    await later;
    expect(messages.map((m) => m.Body)).toEqual(['late']);
  });
});
