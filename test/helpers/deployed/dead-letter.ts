/**
 * A letter in the dead-letter queue as the redrive pass leaves one (functions/adapters/aws/
 * sqs-dead-letter-queue.ts): its redrive count and when it was last redriven, as message
 * attributes. The body is no work message: a letter's tests only exercise the pass's decision.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { REDRIVE_ATTRIBUTES } from '#adapters/aws/sqs-dead-letter-queue.ts';

export async function putDeadLetter(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  letter: { readonly redrives: number; readonly redrivenAt: number },
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: '{"v":1}',
      MessageAttributes: {
        [REDRIVE_ATTRIBUTES.redrives]: { DataType: 'Number', StringValue: String(letter.redrives) },
        [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'Number', StringValue: String(letter.redrivenAt) },
      },
    }),
  );
}
