/**
 * Lambda entry of the scheduled change detector (EventBridge). Composed once per cold start.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { composeDetector } from '#compose/lambda-detector.ts';
import { SERVICE_NAMES } from '#shared/env-names.ts';
import { createDetectHandler } from './detect-handler.ts';
import { MIDDY_OPTIONS } from './middy-options.ts';

const lambda = composeDetector(process.env, SERVICE_NAMES.detectChanges);

export const handler = middy(MIDDY_OPTIONS)
  .use(injectLambdaContext(lambda.logger))
  .use(logMetrics(lambda.metrics.emf))
  .handler(createDetectHandler(lambda.detection, lambda.redrive));
