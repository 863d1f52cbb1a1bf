/**
 * The download workers' way back onto the work queue, for paused long videos that go on in a new
 * work message (domain/archive/process-work-message.ts): the SQS client and the queue adapter,
 * loaded by a dynamic `import()` on that path alone, a bundle of its own beside the workers'
 * `index.mjs` (`LAZY_MODULES`, infra/lambda-bundle.ts), which no cold start loads.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

/** The work queue at `queueUrl` on a client of its own, told to `onClient` (the IAM test records it). */
export function sqsContinuation(queueUrl: string, onClient?: (client: SQSClient) => void): WorkQueue {
  const client = new SQSClient({});
  onClient?.(client);
  return new SqsWorkQueue({ client, queueUrl });
}
