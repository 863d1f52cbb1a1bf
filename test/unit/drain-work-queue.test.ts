/**
 * The local download workers' end: pollers that find the queue empty while another poller's batch
 * is still running wait for that batch, and leave as soon as it ends with the queue empty.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntilEmpty } from '#local/drain-work-queue.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

describe('pollUntilEmpty', () => {
  it('ends when the last batch in flight ends, without the idle pollers sleeping out their wait', async () => {
    const queues = await local.createQueue({ visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
    await local.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'slow' }));
    let handledAt = 0;
    const handler = async (event: SQSEvent) => {
      expect(event.Records.map((r) => r.body)).toEqual(['slow']);
      await new Promise((resolve) => setTimeout(resolve, 800));
      handledAt = performance.now();
      return { batchItemFailures: [] };
    };
    // The idle pollers' fallback wait is far longer than the test may take: only the end of
    // the batch in flight can wake them in time.
    const idleWaitMs = 20_000;
    await pollUntilEmpty({ client: local.sqs, endpoint: '', queues }, handler, 3, () => false, idleWaitMs);
    expect(handledAt).toBeGreaterThan(0);
    expect(performance.now() - handledAt).toBeLessThan(idleWaitMs / 2);
  }, 60_000);
});
