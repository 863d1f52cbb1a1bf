/**
 * A Lambda `Context` for running the real handlers on this machine: same shape, a real deadline.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export function createLambdaContext(
  functionName: string,
  timeoutMs: number,
  now: () => number = Date.now,
): Context {
  const deadline = now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
