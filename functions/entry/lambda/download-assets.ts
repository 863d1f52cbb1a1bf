/**
 * Lambda entry of the download workers (SQS event source with ReportBatchItemFailures).
 * Composed once per cold start.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { composeDownloader } from '#compose/lambda-downloader.ts';
import { SERVICE_NAMES } from '#shared/env-names.ts';
import { createDownloadHandler } from './download-handler.ts';
import { MIDDY_OPTIONS } from './middy-options.ts';

const lambda = composeDownloader(process.env, SERVICE_NAMES.downloadAssets);

export const handler = middy<SQSEvent, SQSBatchResponse>(MIDDY_OPTIONS)
  .use(injectLambdaContext(lambda.logger))
  .use(logMetrics(lambda.metrics.emf))
  .handler(createDownloadHandler(lambda.downloads));
