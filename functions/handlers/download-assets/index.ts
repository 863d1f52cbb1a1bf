/**
 * Lambda entry of the download workers (SQS event source with ReportBatchItemFailures).
 * Everything is built once per cold start; the work is `createDownloadHandler`.
 */
import middy from '@middy/core';
import { SERVICE_NAMES } from '#shared/env-names.ts';
import { lambdaEnvironment } from '../shared/lambda-environment.ts';
import { createDownloadHandler } from './download-handler.ts';

const environment = lambdaEnvironment(process.env, SERVICE_NAMES.downloadAssets);

export const handler = middy(
  createDownloadHandler({
    archive: {
      state: environment.aws.state,
      objects: environment.aws.objects,
      versionPolicy: environment.versionPolicy,
      deletePolicy: environment.deletePolicy.mode,
      now: Date.now,
      upload: {
        partSize: environment.config.uploadPartSizeMiB * 1024 * 1024,
        queueSize: environment.config.uploadQueueSize,
      },
    },
    icloud: environment.icloud,
    logger: environment.logger,
    metrics: environment.metrics,
    reserveMs: environment.config.deadlineReserveMs,
  }),
);
