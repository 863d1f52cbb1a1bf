/**
 * The download workers' event mapping: each SQS record's body is one work message for the
 * download batch. Partial batch failures (Powertools batch, `ReportBatchItemFailures`): a record
 * whose processing rejects is reported failed and SQS redelivers only that one. Records run at
 * once; the batch bounds the items in flight across them.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type DownloadBatchDeps, startDownloadBatch } from '#app/download-batch.ts';

/** SQS's receive count of a record (1 on the first delivery); undefined when absent or unreadable. */
function deliveryOf(receiveCount: string | undefined): number | undefined {
  const delivery = Number(receiveCount);
  return Number.isInteger(delivery) && delivery > 0 ? delivery : undefined;
}

export function createDownloadHandler(deps: DownloadBatchDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batch = startDownloadBatch(deps, { remainingMs: context.getRemainingTimeInMillis() });
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) =>
          batch.process(record.body, record.messageId, deliveryOf(record.attributes.ApproximateReceiveCount)),
        new BatchProcessor(EventType.SQS),
        { context, processInParallel: true, throwOnFullBatchFailure: false },
      );
    } finally {
      await batch.finish();
    }
  };
}
