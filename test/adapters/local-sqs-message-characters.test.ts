/**
 * The local SQS refuses a body holding a character SQS does not accept, as SQS does (its allowed
 * set: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; InvalidMessageContents,
 * the sender's fault): a SendMessage fails, a SendMessageBatch fails that entry and stores the
 * others. local-aws-sqs alone stored any body, so a work message SQS refuses passed locally.
 */
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { localClientConfig } from '#local/servers/client-config.ts';
import { ensureWorkQueue } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSqsServer } from '#local/servers/sqs-server.ts';
import { photoAsset } from '#test/handlers/handler-doubles.ts';

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

const receiveBodies = (queueUrl: string) =>
  client
    .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))
    .then((output) => (output.Messages ?? []).map((m) => m.Body));

describe('the local SQS and the characters of a message body', () => {
  it('refuses a SendMessage whose body holds U+FFFF with InvalidMessageContents', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'chars-send');
    const refusal = await client
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'Scan\uFFFF.JPG' }))
      .then(
        () => undefined,
        (error: { name: string; $metadata: { httpStatusCode?: number } }) => error,
      );
    expect(refusal?.name).toBe('InvalidMessageContents');
    expect(refusal?.$metadata.httpStatusCode).toBe(400);
    expect(await receiveBodies(queueUrl)).toEqual([]);
  });

  it('fails only the batch entry with U+FFFE, as the sender fault, and stores the others', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'chars-batch');
    // Tab, line ends, U+FFFD and a character beyond the BMP are all allowed.
    const allowed = 'ok\t\r\n\uFFFD\u{1F600}';
    const output = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'good', MessageBody: allowed },
          { Id: 'bad', MessageBody: 'x\uFFFE' },
        ],
      }),
    );
    expect(output.Successful?.map((entry) => entry.Id)).toEqual(['good']);
    expect(output.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'InvalidMessageContents', SenderFault: true }),
    ]);
    expect(await receiveBodies(queueUrl)).toEqual([allowed]);
  });

  it('stores a work message for a photo named with U+FFFF, and gives the name back', async () => {
    const { queueUrl } = await ensureWorkQueue(client, 'chars-work');
    const queue = new SqsWorkQueue({ client, queueUrl, maxAttempts: 1 });
    const asset = { ...photoAsset('x', 10), fileName: 'Scan\uFFFF 2019.JPG' };
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: 0,
      items: [{ type: 'asset', asset }],
    };

    await queue.enqueue([message]);

    const bodies = await receiveBodies(queueUrl);
    expect(bodies.map((body) => parseWorkMessage(body ?? ''))).toEqual([message]);
  });
});
