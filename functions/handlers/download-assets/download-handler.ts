/**
 * The SQS-triggered download worker, as a function of its dependencies: each SQS record is one
 * work message, processed by the archive domain. Partial batch failures (Powertools batch):
 * a retryable failure fails only its record (SQS redelivers it, then the dead-letter queue);
 * a message that is not ours is logged and acknowledged (retrying cannot fix it); a session that
 * needs a human stops the batch at once and emits the metric the alarm watches.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { type MessageResult, processWorkMessage } from '#domain/archive/process-work-message.ts';
import { classifyError } from '#domain/errors.ts';
import type { RunRef } from '#domain/model/run.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { IcloudAdapters } from '../shared/icloud-adapters.ts';
import type { PipelineMetrics } from '../shared/pipeline-metrics.ts';

export interface DownloadHandlerDeps {
  readonly archive: Omit<ArchiveDeps, 'downloader' | 'refresh' | 'signal'>;
  readonly icloud: () => Promise<IcloudAdapters>;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  /** Milliseconds before the Lambda deadline at which in-flight uploads are aborted. */
  readonly reserveMs: number;
  /** Called with each message's result (the local runtime's progress). */
  readonly onMessage?: (result: MessageResult) => void;
}

/** Stops the rest of a batch once a record needed a human. */
class ReauthNeededError extends Error {
  override readonly name = 'ReauthNeededError';
}

/** Adds a message's outcome to its run's record; a missing record (an old message) is not an error. */
async function recordOnRun(deps: DownloadHandlerDeps, run: RunRef, result: MessageResult): Promise<void> {
  try {
    await deps.archive.state.addRunProgress(run, {
      counts: {
        assetsArchived: result.archived,
        assetsUpdated: result.updated,
        assetsPurged: result.purged,
        assetsFailed: result.failed,
        filesArchived: result.versionsArchived,
        bytesArchived: result.bytesArchived,
      },
    });
    for (const failure of result.failures) await deps.archive.state.recordRunFailure(run, failure);
  } catch (error) {
    deps.logger.warn('run record not updated', { runId: run.runId, error });
  }
}

export function createDownloadHandler(deps: DownloadHandlerDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error('the invocation is about to time out')),
      Math.max(0, context.getRemainingTimeInMillis() - deps.reserveMs),
    );
    let icloud: IcloudAdapters | undefined;
    let reauth = false;
    const processor = new BatchProcessor(EventType.SQS);
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      if (reauth) throw new ReauthNeededError('skipped: iCloud needs a new sign-in');
      let message: ReturnType<typeof parseWorkMessage>;
      try {
        message = parseWorkMessage(record.body);
      } catch (error) {
        // Not ours, or from an incompatible version: acknowledged, never retried.
        deps.logger.error('work message rejected', { messageId: record.messageId, error });
        return;
      }
      try {
        icloud ??= await deps.icloud();
        const adapters = icloud;
        const result = await processWorkMessage(
          {
            ...deps.archive,
            downloader: adapters.downloader,
            refresh: async (zone, keys) => (await adapters.source.lookupAssets(zone, keys)).assets,
            signal: deadline.signal,
          },
          message,
        );
        if (message.runStartedAt !== undefined) {
          // The detection run that enqueued this work shows what came of it (`icloud-s3 status`).
          await recordOnRun(deps, { runId: message.runId, startedAt: message.runStartedAt }, result);
        }
        deps.metrics.add(METRICS.assetsArchived, result.archived);
        deps.metrics.add(METRICS.bytesArchived, result.bytesArchived, 'Bytes');
        deps.metrics.add(METRICS.assetsFailed, result.failed);
        for (const failure of result.failures) deps.logger.warn('asset failed permanently', failure);
        deps.onMessage?.(result);
      } catch (error) {
        if (classifyError(error) === 'reauth') {
          reauth = true;
          deps.metrics.add(METRICS.reauthRequired, 1);
          deps.logger.error('iCloud needs you to sign in again', { error });
        } else {
          deps.logger.warn('work message will be retried', { messageId: record.messageId, error });
        }
        throw error;
      }
    };
    try {
      return await processPartialResponse(event, handleRecord, processor, {
        context,
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      clearTimeout(timer);
      if (icloud !== undefined) {
        deps.metrics.add(METRICS.appleRequests, icloud.requests.total());
        await icloud.session
          .save()
          .catch((error: unknown) => deps.logger.warn('session not saved', { error }));
      }
      deps.metrics.publish();
    }
  };
}
