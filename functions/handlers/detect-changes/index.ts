/**
 * Lambda entry of the scheduled change detector (EventBridge). Everything is built once per cold
 * start; the work is `createDetectHandler`.
 */
import middy from '@middy/core';
import { SERVICE_NAMES } from '#shared/env-names.ts';
import { lambdaEnvironment } from '../shared/lambda-environment.ts';
import { createDetectHandler } from './detect-handler.ts';

const environment = lambdaEnvironment(process.env, SERVICE_NAMES.detectChanges);

export const handler = middy(
  createDetectHandler({
    state: environment.aws.state,
    queue: environment.aws.queue,
    icloud: environment.icloud,
    deletePolicy: environment.deletePolicy,
    reserveMs: environment.config.deadlineReserveMs,
    logger: environment.logger,
    metrics: environment.metrics,
  }),
);
