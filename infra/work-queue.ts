import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, WORK_RETENTION_MS } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

/**
 * Receives before a message is parked in the dead-letter queue. Each receive may stream gigabytes
 * from Apple, and a failed message comes back only after the visibility timeout (about 90 min), so
 * five receives span roughly 6-7 hours: long enough to ride out an Apple 503 window (minutes to
 * hours, docs/protocol/limits.md#throttling) or a Lambda deploy, short enough that a message that can never
 * succeed (an asset Apple no longer serves, a bug) surfaces the same day in the DLQ alarm.
 */
export const MAX_RECEIVE_COUNT = 5;

export interface WorkQueueProps {
  /** Timeout of the function that consumes the queue; the visibility timeout derives from it. */
  readonly consumerTimeout: Duration;
  /** The consumer's maximum batching window, added on top (AWS guidance for SQS event sources). */
  readonly consumerBatchingWindow: Duration;
}

/** How the download workers are fed from the queue. */
export interface FeedOptions {
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /** Most concurrent worker invocations (Lambda's SQS scaling limit, 2..1000). */
  readonly maxConcurrency: number;
}

/**
 * The download work queue and its dead-letter queue. Both are encrypted (SSE-SQS) and refuse
 * plain HTTP. A message is invisible for 6 x the consumer timeout after each receive, so a slow
 * worker is never raced by a second one downloading the same asset.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longest SQS allows. A message keeps its send time when it moves here (a redrive is a new
      // send), so SQS deletes it 14 days after its last send: before that the detector moves what
      // still waits to the failed photos' retry list (functions/app/redrive-dead-letters.ts).
      retentionPeriod: Duration.millis(WORK_RETENTION_MS),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        6 * props.consumerTimeout.toSeconds() + props.consumerBatchingWindow.toSeconds(),
      ),
      // Longest SQS allows, at no cost: work nobody received (the event source mapping disabled, a
      // backlog of days) is deleted unseen, never dead-lettered, once this runs out.
      retentionPeriod: Duration.millis(WORK_RETENTION_MS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }

  /** Lets the function enqueue download work and names the queue in its env. */
  grantSend(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [this.queue.queueArn],
      }),
    );
    this.nameIn(fn);
  }

  /**
   * Lets the function redrive the dead-letter queue (self-healing: functions/app/redrive-dead-letters.ts):
   * take messages there, delete them once sent back, put back those it keeps. Sending them back
   * to the work queue is `grantSend`'s.
   */
  grantRedrive(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );
    fn.addEnvironment(ENV.deadLetterQueueUrl, this.deadLetterQueue.queueUrl);
  }

  /**
   * Lets the download workers send a paused long video on in a new work message (the work queue
   * alone, `sqs:SendMessage` alone, which SendMessageBatch needs too) and names the queue.
   */
  grantContinue(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    this.nameIn(fn);
  }

  /**
   * Only names the queue in the function's env, granting nothing: the shared handler config
   * (functions/shared/config.ts) requires every resource name in every handler.
   */
  nameIn(fn: PipelineFunction): void {
    fn.addEnvironment(ENV.workQueueUrl, this.queue.queueUrl);
  }

  /**
   * Makes the function the queue's consumer: Lambda polls for it, and the handler reports failed
   * records individually (`batchItemFailures`) so one bad asset does not redeliver the batch.
   * The event source mapping's role grant is receive/delete/change-visibility only: no send.
   */
  feed(fn: PipelineFunction, options: FeedOptions): void {
    fn.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: options.batchSize,
        maxBatchingWindow: options.maxBatchingWindow,
        maxConcurrency: options.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
